"""How the survey figure tells its traces apart: a colour per filter, shaded per survey, and a marker per survey.

The rules a reader relies on: the same filter looks alike whichever survey measured it (one hue: every G is
grey, every r red), yet two surveys' points in one filter never share a colour (each later survey gets a darker
or lighter shade of the hue, and so does Johnson R next to a Sloan r) nor a marker (``Survey.marker``); within
one survey no two bands share a colour (AAVSO's V, CV and Vis, or R, CR and SR, get distinct hues or shades).
"""
import colorsys

from tom_bhtom_brokers.sources import SURVEYS

#: the hue of each filter; filters a survey may combine (AAVSO's visual and unfiltered bands) have their own
HUES = {
    "u": "#6a3d9a", "U": "#6a3d9a", "SU": "#6a3d9a", "v": "#3f007d", "B": "#1f78b4", "TB": "#1f78b4", "BP": "#1f78b4",
    "g": "#1a9850", "SG": "#1a9850", "TG": "#33a02c", "V": "#7a8b1d", "Vis": "#b8860b", "CV": "#8c564b",
    "G": "#4d4d4d", "CL": "#737373", "c": "#17becf", "o": "#ff7f0e", "r": "#d62728", "R": "#d62728",
    "SR": "#d62728", "TR": "#e7298a", "CR": "#fb6a4a", "RP": "#a50f15", "i": "#e66101", "I": "#e66101",
    "SI": "#e66101", "z": "#8c510a", "SZ": "#8c510a", "y": "#01665e", "J": "#525252", "H": "#3f3f3f",
    "K": "#252525", "Ks": "#252525", "Y": "#01665e", "Z": "#8c510a", "VR": "#b15928", "T": "#cc4c02",
    "W1": "#c51b7d", "W2": "#7b3294",
    "Flux 1.4GHz": "#9467bd", "0.3-10keV": "#6a51a3",
}
OTHER_HUE = "#7f7f7f"
#: (lightness change, hue turn) tried in turn until the colour is free ((0, 0): the hue itself); small enough that
#: a shade still reads as its hue (a fifth survey's g is still green, not black)
SHADES = ((0, 0), (-0.14, 0), (0.14, 0), (0, 0.05), (0, -0.05), (-0.14, 0.05), (0.14, -0.05), (-0.14, -0.05),
          (0.14, 0.05), (-0.24, 0), (0.24, 0), (0, 0.1), (0, -0.1))
#: then finer steps, for a filter many surveys share (over a dozen archives have an i or I band)
SHADES += tuple((change, turn) for turn in (0.025, -0.025, 0.075, -0.075) for change in (0, -0.07, 0.07, -0.2, 0.2))
#: marker of each survey (its record's ``marker``); limits are always open downward triangles
SURVEY_SYMBOLS = {survey.name: survey.marker for survey in SURVEYS}
LIMIT_SYMBOL = "triangle-down-open"


def filter_of(bandpass):
    """'W1(NEOWISE)' -> 'W1'."""
    return bandpass.rsplit("(", 1)[0] if bandpass.endswith(")") else bandpass


def shade(colour, change, turn=0.0):
    """``colour`` ('#rrggbb') with its HLS lightness moved by ``change`` (kept within 0.15 .. 0.8) and its hue
    turned by ``turn`` (a fraction of the colour wheel)."""
    red, green, blue = (int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5))
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    hue = (hue + turn) % 1.0
    lightness = min(0.8, max(0.15, lightness + change))
    return "#" + "".join(f"{round(v * 255):02x}" for v in colorsys.hls_to_rgb(hue, lightness, saturation))


def colours(pairs):
    """(survey, bandpass) -> colour for the given pairs (any order; the result does not depend on it).

    Each pair takes its filter's hue in the first shade that neither another band of its survey nor another
    survey's band of the same hue (its r, R or SR) already holds; surveys are served in ``SURVEYS`` order, so
    Gaia Alerts' G is the plain grey and Gaia DR3's G a shade of it whichever target is shown."""
    order = {survey.name: k for k, survey in enumerate(SURVEYS)}
    taken_in_survey, taken_by_hue, out = {}, {}, {}
    for survey, bandpass in sorted(set(pairs), key=lambda p: (order.get(p[0], len(order)), p[0], p[1])):
        name = filter_of(bandpass)
        # a filter named per site or telescope (KMTNet's I-KMTC) takes its band's hue; the sites get its shades
        hue = HUES.get(name, HUES.get(name.split("-")[0], OTHER_HUE))
        in_survey = taken_in_survey.setdefault(survey, set())
        by_hue = taken_by_hue.setdefault(hue, set())
        candidates = [shade(hue, change, turn) for change, turn in SHADES]
        colour = next((c for c in candidates if c not in in_survey and c not in by_hue), candidates[-1])
        in_survey.add(colour)
        by_hue.add(colour)
        out[survey, bandpass] = colour
    return out
