"""Packaging for the hotline work-order platform."""
from setuptools import find_packages, setup

setup(
    name="hotline",
    version="0.1.0",
    description="Government service hotline (12345) work-order platform",
    license="GPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(include=["hotline*", "workflows*", "integrations*"]),
    include_package_data=True,
    install_requires=[
        "Flask>=3.0,<4",
        "Flask-SQLAlchemy>=3.1,<4",
        "SQLAlchemy>=2.0.30,<2.1",  # Flask-SQLAlchemy 3.1 predates 2.1
        "Flask-Migrate>=4.0,<5",
        "alembic>=1.13",
        "Flask-Login>=0.6,<1",
        "Flask-WTF>=1.2,<2",
        "Flask-Babel>=4.0,<5",
        "Flask-Limiter>=3.5,<4",
        "chinesecalendar>=1.11",
        "celery>=5.3,<6",
        "redis>=6.1,<9",  # kombu 5.7 (Celery's Redis transport) refuses redis-py before 6.1
        "gunicorn>=22",
        "openpyxl>=3.1,<4",  # XLSX exports of reports and work-order lists
        # bulletins (通报): PDF from an HTML template with the CJK font embedded (needs Debian's Pango);
        # its Pillow dependency also draws the bulletins' charts
        "weasyprint>=60",
        "python-docx>=1.1,<2",  # bulletins as Word documents, what government offices edit and forward
        "gevent>=24",     # the live process: one gunicorn gevent worker holds thousands of open pages
        "pyVoIP==1.6.8",  # SIP signalling; its defects are fixed in integrations/telephony/sip/
        "smpplib>=2.2,<3",  # SMPP, the SMS centres' own protocol (integrations/sms/smpp.py)
        # Chinese has no spaces: the knowledge base's search segments words with jieba (pure Python,
        # its dictionary ships inside the package); pinned because a new dictionary changes the tokens
        # already stored in the search indexes (hotline/knowledge/text.py)
        "jieba==0.42.1",
        "nh3>=0.2.14,<0.4",  # knowledge articles' rich text is cleaned to safe HTML (Ammonia)
    ],
    extras_require={
        "postgresql": ["psycopg[binary]>=3.1,<4"],
        "test": [
            "pytest>=8",
            "hypothesis>=6.100",
            "openapi-spec-validator>=0.7",
            "psycopg[binary]>=3.1,<4",
            "playwright>=1.45,<2",  # drives Debian's /usr/bin/chromium; never `playwright install`
        ],
    },
    entry_points={"console_scripts": ["hotline=hotline.cli:main"]},
)
