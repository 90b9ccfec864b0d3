"""Prompt audio: uploaded files or text spoken by espeak-ng, converted once and cached.

Everything the phone plays is 8 kHz 16-bit signed mono PCM (see `phone`).  Converting
costs a subprocess or two, so each distinct sound is converted once and kept in a cache
directory under the SHA-256 of what it is made of.
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

RATE = 8000
SAMPLE_BYTES = 2
#: Longest prompt accepted (an announcement of a few minutes at most).
MAX_SECONDS = 600
TIMEOUT = 60
#: Voices the local TTS offers here: espeak-ng's Mandarin and English.
VOICES = ("cmn", "en")


class PromptError(Exception):
    """Audio could not be made: a missing program, unreadable audio, or too long."""


def text_key(text: str, voice: str) -> str:
    return hashlib.sha256(f"tts\0{voice}\0{text}".encode()).hexdigest()


def audio_key(wav: bytes) -> str:
    return hashlib.sha256(b"wav\0" + wav).hexdigest()


def _run(args: list[str], data: bytes | None = None) -> bytes:
    if shutil.which(args[0]) is None:
        package = {"espeak-ng": "espeak-ng", "sox": "sox"}.get(args[0], args[0])
        raise PromptError(f"{args[0]} is not installed (Debian package {package})")
    try:
        done = subprocess.run(args, input=data, capture_output=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PromptError(f"{args[0]} took longer than {TIMEOUT} s") from exc
    if done.returncode != 0:
        raise PromptError(f"{args[0]} failed: {done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout


def to_pcm(path: str) -> bytes:
    """Any audio file sox reads -> 8 kHz 16-bit mono PCM."""
    pcm = _run(["sox", "-V1", path, "-t", "raw", "-r", str(RATE), "-e", "signed-integer", "-b", "16",
                "-c", "1", "-L", "-"])
    if len(pcm) > MAX_SECONDS * RATE * SAMPLE_BYTES:
        raise PromptError(f"longer than {MAX_SECONDS} s")
    if not pcm:
        raise PromptError("no audio in the file")
    return pcm


def speak(text: str, voice: str = "cmn") -> bytes:
    """Text spoken by espeak-ng, as 8 kHz 16-bit mono PCM."""
    if voice not in VOICES:
        raise PromptError(f"unknown voice {voice!r}")
    if not text.strip():
        raise PromptError("no text to speak")
    wav = _run(["espeak-ng", "-v", voice, "-s", "150", "--stdout", text])
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        tmp.write(wav)
        tmp.flush()
        return to_pcm(tmp.name)


def convert_upload(data: bytes, filename: str) -> bytes:
    """An uploaded file -> WAV (8 kHz 16-bit mono), refused with PromptError if unreadable."""
    suffix = Path(filename).suffix.lower() or ".wav"
    if suffix not in (".wav", ".ogg", ".flac", ".au", ".aiff", ".mp3"):
        raise PromptError(f"unsupported file type {suffix}")
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        return wav_bytes(to_pcm(tmp.name))


def wav_bytes(pcm: bytes, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(SAMPLE_BYTES)
        w.setframerate(RATE)
        w.writeframes(pcm)
    return out.getvalue()


def wav_pcm(wav: bytes) -> bytes:
    """The PCM frames of a WAV this module wrote (8 kHz 16-bit mono)."""
    with wave.open(io.BytesIO(wav)) as w:
        if (w.getframerate(), w.getsampwidth(), w.getnchannels()) != (RATE, SAMPLE_BYTES, 1):
            raise PromptError("prompt audio must be 8 kHz 16-bit mono")
        return w.readframes(w.getnframes())


def tone(frequency: float, seconds: float, amplitude: int = 8000) -> bytes:
    """A sine tone as PCM (the beep before a voicemail, test signals)."""
    import math
    import struct
    count = int(RATE * seconds)
    step = 2 * math.pi * frequency / RATE
    return struct.pack(f"<{count}h", *(int(amplitude * math.sin(step * i)) for i in range(count)))


class PromptCache:
    """Converted prompts on disk, keyed by SHA-256; safe for several processes."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pcm"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, pcm: bytes) -> None:
        path = self._path(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(pcm)
        os.replace(tmp, path)  # atomic: a reader sees the whole file or none

    def spoken(self, text: str, voice: str = "cmn") -> bytes:
        key = text_key(text, voice)
        pcm = self.get(key)
        if pcm is None:
            pcm = speak(text, voice)
            self.put(key, pcm)
        return pcm

    def uploaded(self, wav: bytes) -> bytes:
        key = audio_key(wav)
        pcm = self.get(key)
        if pcm is None:
            pcm = wav_pcm(wav)
            self.put(key, pcm)
        return pcm
