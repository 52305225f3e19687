"""VizieR (CDS, Strasbourg), as the adapters that read it need it: FIRST's catalogue (``VIII/92/first14``) and
AAVSO's cone on VSX (``B/vsx/vsx``). Its ASU tab-separated answers (``/viz-bin/asu-tsv``) read as frames. Pure."""
from tom_bhtom_brokers.brokers.reading import frame_of_rows
from tom_bhtom_brokers.exceptions import BrokerParseError

#: CDS's VizieR
VIZIER_URL = "https://vizier.cds.unistra.fr"


def asu_tsv(text):
    """VizieR's ASU tab-separated answer: '#' comments, a names line, a units line, a dashes line, rows;
    None for an answer of comments only (nothing found)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines and text.lstrip().startswith("#"):
        return None
    if len(lines) < 3 or not set(lines[2].replace("\t", "")) <= {"-", " "}:
        raise BrokerParseError("the VizieR answer is not an ASU tab-separated table")
    return frame_of_rows([[cell.strip() for cell in line.split("\t")] for line in lines[3:]],
                         [name.strip() for name in lines[0].split("\t")], (), "VizieR table")
