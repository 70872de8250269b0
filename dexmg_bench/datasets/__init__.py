"""Data on disk: scripted/recorded source demos (HDF5) now, Minari datasets later."""
