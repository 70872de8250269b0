"""Camera images as LeRobot v3.0 videos: one mp4 per camera and file, episodes one after another.

Encoded with the ffmpeg binary that ``imageio-ffmpeg`` ships: H.264 (libx264), yuv420p, CRF 18
(x264's "visually lossless"; LeRobot's own default, 30, blurs small renders), a keyframe every 2
frames (LeRobot's ``g=2``, so a decoder seeks to any frame cheaply), no B-frames, one thread and
ffmpeg's bitexact flags, so the same images give the same bytes (for the same ffmpeg build).
yuv420p halves the colour resolution, so images need an even width and height, and the codec is
lossy: decoded frames are close to the images, not equal (on 32 px renders the mean absolute
error is about 2.5 of 255).

Frame ``i`` of a file has the timestamp ``i / fps``; an episode's ``from_timestamp`` is its first
frame's and ``to_timestamp`` the end of its last, which is what LeRobot adds to a row's
``timestamp`` to find the frame.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import IO, Any

import numpy as np

from dexmg_bench.errors import UserInputError

VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
VIDEO_FILE_SIZE_MB = 200  # a video file is closed once it passes this, LeRobot's default
CHUNK_SIZE = 1000  # files per chunk folder, LeRobot's default
CODEC, PIX_FMT, CRF, GOP = "h264", "yuv420p", 18, 2
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)


def video_key(image_key: str) -> str:
    """``overview_image`` -> ``observation.images.overview`` (LeRobot's camera feature names)."""
    return "observation.images." + image_key.removesuffix("_image")


def ffmpeg_exe() -> str:
    """The ffmpeg binary of ``imageio-ffmpeg`` (a dependency of the ``lerobot`` extra)."""
    try:
        import imageio_ffmpeg
    except ImportError as err:
        raise UserInputError(
            "the LeRobot export encodes camera images with imageio-ffmpeg, which is not "
            "installed: pip install 'dexmg-bench[lerobot]'"
        ) from err
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def check_images(key: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse images the encoder cannot take as they are: not uint8 RGB, odd width or height.

    ``shape`` is one image's, (height, width, 3), as the dataset's observation space has it.
    """
    if dtype != np.uint8 or len(shape) != 3 or shape[-1] != 3:
        raise UserInputError(
            f"{key}: camera images must be uint8 (height, width, 3). Got {dtype} {shape}."
        )
    height, width = shape[:2]
    if height % 2 or width % 2:
        raise UserInputError(
            f"{key}: {width}x{height} images cannot be {PIX_FMT} video, which needs an even "
            "width and height; render the dataset at an even size"
        )


def video_feature(height: int, width: int, fps: int) -> dict[str, Any]:
    """A camera's ``info.json`` feature, with the ``info`` block LeRobot reads from the file."""
    return {
        "dtype": "video",
        "shape": [height, width, 3],
        "names": ["height", "width", "channels"],
        "info": {
            "video.height": height,
            "video.width": width,
            "video.codec": CODEC,
            "video.pix_fmt": PIX_FMT,
            "video.is_depth_map": False,
            "video.fps": fps,
            "video.channels": 3,
            "has_audio": False,
        },
    }


class _Encoder:
    """One mp4 being written: raw RGB frames piped into an ffmpeg process."""

    def __init__(self, path: Path, height: int, width: int, fps: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        cmd = [
            ffmpeg_exe(),
            "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
            "-framerate", str(fps), "-i", "pipe:0",
            "-c:v", "libx264", "-pix_fmt", PIX_FMT, "-crf", str(CRF), "-g", str(GOP),
            "-bf", "0", "-threads", "1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
            "-f", "mp4", str(path),
        ]  # fmt: skip
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def size_mb(self) -> float:
        """What ffmpeg has written so far (it buffers a little)."""
        return self.path.stat().st_size / 2**20 if self.path.exists() else 0.0

    def write(self, frames: np.ndarray) -> None:
        stdin: IO[bytes] | None = self._proc.stdin
        if stdin is None:
            raise RuntimeError(f"{self.path}: the encoder is closed")
        try:
            stdin.write(np.ascontiguousarray(frames).tobytes())
        except BrokenPipeError:
            self.close()

    def close(self) -> None:
        _, err = self._proc.communicate()
        if self._proc.returncode != 0:
            raise RuntimeError(f"ffmpeg could not write {self.path}: {err.decode().strip()}")


class CameraVideos:
    """The video files of one camera, filled episode by episode (state: the open file)."""

    def __init__(
        self, root: Path, key: str, fps: int, *, max_mb: float = VIDEO_FILE_SIZE_MB
    ) -> None:
        self.root, self.key, self.fps, self.max_mb = root, key, fps, max_mb
        self._file_no = 0
        self._frames = 0  # frames already in the open file
        self._encoder: _Encoder | None = None

    def add_episode(self, frames: np.ndarray) -> dict[str, Any]:
        """Append one episode's frames; return its ``videos/<key>/...`` episodes columns."""
        if self._encoder is not None and self._encoder.size_mb() > self.max_mb:
            self._encoder.close()
            self._encoder, self._file_no, self._frames = None, self._file_no + 1, 0
        chunk, file = divmod(self._file_no, CHUNK_SIZE)
        if self._encoder is None:
            path = self.root / VIDEO_PATH.format(
                video_key=self.key, chunk_index=chunk, file_index=file
            )
            self._encoder = _Encoder(path, frames.shape[1], frames.shape[2], self.fps)
        self._encoder.write(frames)
        start, self._frames = self._frames, self._frames + len(frames)
        return {
            f"videos/{self.key}/chunk_index": chunk,
            f"videos/{self.key}/file_index": file,
            f"videos/{self.key}/from_timestamp": start / self.fps,
            f"videos/{self.key}/to_timestamp": self._frames / self.fps,
        }

    def close(self) -> None:
        """Finish the open file."""
        if self._encoder is not None:
            self._encoder.close()
            self._encoder = None


class ImageStats:
    """Per-channel statistics of uint8 images, exact, from 256-bin histograms (memory O(1)).

    LeRobot keeps image statistics per channel, scaled to [0, 1], each of shape (3, 1, 1).
    """

    def __init__(self) -> None:
        self.frames = 0
        self._hist = np.zeros((3, 256), np.int64)

    def update(self, images: np.ndarray) -> None:
        """Count the pixels of ``images`` (frames, height, width, 3)."""
        self.frames += len(images)
        for c in range(3):
            self._hist[c] += np.bincount(images[..., c].reshape(-1), minlength=256)

    def result(self) -> dict[str, list[Any]]:
        """min, max, mean, std, count (frames) and q01 ... q99 as LeRobot's stats.json has them."""
        levels = np.arange(256, dtype=np.float64)
        out: dict[str, list[float]] = {k: [] for k in ("min", "max", "mean", "std")}
        quantiles: dict[str, list[float]] = {f"q{round(q * 100):02d}": [] for q in QUANTILES}
        for hist in self._hist:
            n = hist.sum()
            seen = np.flatnonzero(hist)
            mean = (hist * levels).sum() / n
            out["min"].append(seen[0])
            out["max"].append(seen[-1])
            out["mean"].append(mean)
            out["std"].append(np.sqrt((hist * (levels - mean) ** 2).sum() / n))
            cum = np.cumsum(hist)
            for q, name in zip(QUANTILES, quantiles, strict=True):
                pos = q * (n - 1)  # numpy's default (linear) quantile on the sorted pixels
                lo, hi = int(np.floor(pos)), int(np.ceil(pos))
                a, b = np.searchsorted(cum, lo, "right"), np.searchsorted(cum, hi, "right")
                quantiles[name].append(a + (b - a) * (pos - lo))
        scaled = {k: [[[float(v) / 255]] for v in vals] for k, vals in (out | quantiles).items()}
        return {
            **{k: scaled[k] for k in out},
            "count": [self.frames],
            **{k: scaled[k] for k in quantiles},
        }
