"""Telephony: the worker that answers the hotline's calls.

Layers, bottom up (see ../shared/design/TELEPHONY.md):

- ``sip``           the one package that changes pyVoIP 1.6.8: SIP messages, digest
                    auth, SDP, transactions, registration, calls (legs), and every defect
                    the design records fixed by name, each with a SIPp regression test in
                    tests/telephony/pyvoip/.
- ``media``         the media engine: one thread per process owns every RTP socket,
                    paces 20 ms frames for all calls, decodes/encodes G.711 (PCMU and
                    PCMA), RFC 2833 digits, playback, capture, bridging two legs,
                    supervisor listen/whisper/barge, and two-party WAV recording.
                    pyVoIP's own RTP threads are never started.
- ``phone``         ``Phone`` and ``Call``: what the application uses (register,
                    answer, reject, dial, hang up, play, read digits, capture, bridge,
                    record).  Audio at this level is 8 kHz 16-bit signed mono PCM,
                    little endian; one frame is 20 ms = 160 samples = 320 bytes.
- ``prompts``       prompt audio: uploaded files or text spoken by espeak-ng, converted
                    once with sox and cached.
- ``worker``        the application: IVR flows, queues and ACD, agents, recording,
                    voicemail, outbound calls, CDR and queue log.
"""
