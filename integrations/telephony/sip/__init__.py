"""The SIP layer: every change this platform makes to pyVoIP 1.6.8 lives in this package.

pyVoIP itself is never modified.  Its classes are subclassed here (``message``, ``legs``,
``transactions``, ``registration``, ``agent``), and each defect recorded in
shared/design/TELEPHONY.md is a named fix in ``fixes`` that ``install()`` applies
(``install(without={"name"})`` leaves one out for its regression test in tests/telephony/pyvoip/).
"""
import pyVoIP.VoIP  # noqa: F401  before pyVoIP.SIP, which is a circular import when imported first
