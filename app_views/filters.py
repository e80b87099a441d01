"""The sidebar: which view, and the filters every view shares.

Every widget has a ``key`` so that tests (Streamlit's AppTest) and callbacks can set
it. :func:`sidebar` returns the choices as one frozen :class:`Filters`, which is also
what the cached computations are keyed on.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analysis.clusters import DEFAULT_EPS_M, DEFAULT_MIN_SAMPLES
from analysis.hotspots import MIN_PATROL_MONTHS
from analysis.periods import contiguous_runs, default_months
from app_views.state import AREA_KEY, Dataset, area_choices, level_labels
from app_views.state import store_dir as state_store
from geo.schema import ASB

__all__ = [
    "METHOD_LABELS",
    "TILE_OPTIONS",
    "VIEWS",
    "Filters",
    "keep_choice",
    "sidebar",
]

VIEWS = ("Map", "Patrol plan", "Tasking review", "Venue siting", "Data")
"""The views, in the order the sidebar lists them."""

METHOD_LABELS = {
    "patrol": "Patrol areas: where next month",
    "kde": "KDE: highest-density cells",
    "dbscan": "DBSCAN: clusters of incidents",
    "gistar": "Gi*: statistically hot cells",
}
"""Hotspot methods and how the sidebar names them."""

METHOD_QUESTIONS = {
    "patrol": "Where to patrol next month: a few compact areas from the predictive risk "
    "surface (each cell's expected count next month from its own recent history, its "
    "neighbours, the other crime types and the kind of place), with the accuracy measured "
    "on the loaded months.",
    "kde": "Where incidents were densest in the months chosen (kernel density).",
    "dbscan": "Where incidents cluster: groups of reports close together.",
    "gistar": "Where counts are significantly high against the area as a whole (Gi*).",
}
"""The question each method answers, shown with it."""

TILE_OPTIONS = {
    "none": "None: works offline",
    "OpenStreetMap": "OpenStreetMap (needs the internet)",
}
"""Map backgrounds; tiles are fetched from the internet, so they are opt-in."""

_SHORT = {ASB: "ASB"}

_RING_CHOICES = (200, 400, 600, 800, 1000, 1500, 2000)


@dataclass(frozen=True)
class Filters:
    """Everything chosen in the sidebar.

    Attributes
    ----------
    view
        One of :data:`VIEWS`.
    types
        Crime types (empty means all types).
    month_from, month_to
        Inclusive ``YYYY-MM`` range.
    level
        Boundary set: one of the study area's levels (``ward``, ``lsoa``...).
    measure
        ``count`` or ``rate`` (per 1,000 residents a year).
    method
        ``patrol``, ``kde``, ``dbscan`` or ``gistar``.
    bandwidth_m
        KDE bandwidth in metres, or ``"auto"``.
    coverage
        KDE: share of the borough the hotspots cover (0.01 = 1%).
    eps_m, min_samples
        DBSCAN parameters.
    gistar_cell_m
        Gi* cell size in metres.
    tiles
        ``None`` (no basemap) or a folium tile set name.
    rings_m
        Venue reach rings in metres.
    show_density, show_points
        Whether the main map draws the KDE surface and the incident points (both take
        a few tenths of a second to draw, so they are off until asked for).
    sources
        The sources shown (police.uk, a CSP log); empty means every source.
    n_areas, max_across_m
        Patrol areas: how many (3 to 30) and the largest extent of one, metres.
    """

    view: str
    types: tuple[str, ...]
    month_from: str
    month_to: str
    level: str
    measure: str
    method: str
    bandwidth_m: float | str
    coverage: float
    eps_m: float
    min_samples: int
    gistar_cell_m: float
    tiles: str | None
    rings_m: tuple[float, ...]
    show_density: bool = False
    show_points: bool = False
    sources: tuple[str, ...] = ()
    n_areas: int = 10
    max_across_m: float = 400.0

    def hotspot_params(self) -> dict[str, object]:
        """Keyword arguments of :func:`analysis.hotspots.detect_hotspots` for the method."""
        if self.method == "patrol":
            return {"method": "patrol", "n_areas": self.n_areas, "max_across_m": self.max_across_m}
        if self.method == "kde":
            return {"method": "kde", "bandwidth_m": self.bandwidth_m, "coverage": self.coverage}
        if self.method == "dbscan":
            return {"method": "dbscan", "eps_m": self.eps_m, "min_samples": self.min_samples}
        return {"method": "gistar", "gistar_cell_m": self.gistar_cell_m}

    @property
    def types_label(self) -> str:
        """The chosen types in words."""
        if not self.types:
            return "All crime and ASB"
        if len(self.types) <= 2:
            return " + ".join(_SHORT.get(t, t) for t in self.types)
        return f"{len(self.types)} types"

    @property
    def period_label(self) -> str:
        """The month range in words."""
        if self.month_from == self.month_to:
            return self.month_from
        return f"{self.month_from} to {self.month_to}"

    @property
    def value_label(self) -> str:
        """What the choropleth shows, for its legend."""
        what = "per 1,000 residents a year" if self.measure == "rate" else "count"
        return f"{self.types_label}, {what}, {self.period_label}"

    @property
    def method_label(self) -> str:
        """The method and its main parameter in words."""
        if self.method == "patrol":
            return (
                f"up to {self.n_areas}, at most {self.max_across_m:.0f} m across, from the "
                "predictive risk surface"
            )
        if self.method == "kde":
            bw = "auto bandwidth" if self.bandwidth_m == "auto" else f"{self.bandwidth_m:.0f} m"
            return f"KDE ({bw}, top {self.coverage * 100:g}% of the borough)"
        if self.method == "dbscan":
            return f"DBSCAN ({self.eps_m:.0f} m, at least {self.min_samples} incidents)"
        return f"Gi* ({self.gistar_cell_m:.0f} m cells)"


def _reset_for(ds: Dataset) -> None:
    """Forget type and month choices that belong to another dataset."""
    if st.session_state.get("_filters_dataset") != ds.key:
        for key in ("types", "months"):
            st.session_state.pop(key, None)
        st.session_state["_filters_dataset"] = ds.key
    if "types" in st.session_state:
        st.session_state["types"] = [t for t in st.session_state["types"] if t in ds.types]
    else:
        st.session_state["types"] = [ASB] if ASB in ds.types else ds.types[:1]
    months = st.session_state.get("months")
    if months is not None and not set(months) <= set(ds.months):
        st.session_state.pop("months")


def keep_choice(key: str, options: list[str]) -> None:
    """Make the widget ``key``'s value one of ``options``, remembering a dropped choice.

    A choice the new area lacks (local areas outside Eastleigh, patrol areas with too few
    months) is replaced by the first option in the session state, so the browser shows
    what the app uses (a keyed widget whose value is only dropped keeps showing the old
    one). The dropped choice comes back in the next area that has it, unless the user has
    chosen something else meanwhile.

    Parameters
    ----------
    key
        The widget's session state key.
    options
        The options the widget is drawn with.
    """
    wanted, forced = f"_{key}_wanted", f"_{key}_forced"
    current = st.session_state.get(key)
    if forced in st.session_state and current != st.session_state[forced]:
        # The user chose since the replacement: their choice stands.
        st.session_state.pop(wanted, None)
        st.session_state.pop(forced, None)
    if st.session_state.get(wanted) in options:
        st.session_state[key] = st.session_state.pop(wanted)
        st.session_state.pop(forced, None)
    elif current not in options:
        if current is not None and wanted not in st.session_state:
            st.session_state[wanted] = current
        st.session_state[key] = st.session_state[forced] = options[0]


def sidebar(ds: Dataset) -> Filters:
    """Draw the sidebar and return what was chosen.

    Parameters
    ----------
    ds
        The active dataset (its types and months are the choices).

    Returns
    -------
    Filters
    """
    _reset_for(ds)
    sb = st.sidebar
    choices = area_choices()
    sb.title(f"{choices.get(ds.area, ds.area).split(' (')[0]} hotspots")
    views = [*VIEWS, "National"] if state_store() is not None else list(VIEWS)
    keep_choice("view", views)
    view = sb.radio("View", views, key="view")
    if st.session_state.get(AREA_KEY) not in choices:
        st.session_state[AREA_KEY] = ds.area
    sb.selectbox(
        "Area",
        list(choices),
        format_func=choices.__getitem__,
        key=AREA_KEY,
        help="Any district of the Hampshire force, or North Hampshire CSP (three districts). "
        "Only Eastleigh has its 2002 wards, local areas, named places and venues.",
    )
    sb.caption(f"Data: {ds.label}")
    if ds.caveat:
        sb.warning(ds.caveat)

    sb.subheader("Filters")
    sources: list[str] = []
    if len(ds.sources) > 1:
        sources = sb.multiselect(
            "Sources",
            ds.sources,
            key="sources",
            help="police.uk and the CSP's own logs, each on its own or together. Choose none "
            "to include every source.",
        )
    types = sb.multiselect(
        "Crime types",
        sorted(ds.types),
        key="types",
        help="Choose none to include every type.",
    )
    months = ds.months
    if len(months) >= 2:
        month_from, month_to = sb.select_slider(
            "Months",
            options=months,
            # A tuple value makes it a range slider (Streamlit decides that from value=,
            # not from the session state), so value= is always given.
            value=default_months(months),
            key="months",
            help="Only the months present in the data. The Tasking review compares this "
            "period with the one of the same length before it.",
        )
    else:
        month_from = month_to = months[0] if months else ""
        sb.caption(f"Months: {month_from or 'none'} (the data holds one month)")
    labels = level_labels()
    keep_choice("level", list(labels))
    level = sb.selectbox("Boundary set", list(labels), format_func=labels.__getitem__, key="level")
    measure = sb.radio(
        "Measure",
        ["count", "rate"],
        key="measure",
        horizontal=True,
        format_func={"count": "Count", "rate": "Rate per 1,000 a year"}.__getitem__,
    )

    sb.subheader("Hotspots")
    runs = contiguous_runs(ds.months)
    patrol_ok = bool(runs) and max(len(r) for r in runs) >= MIN_PATROL_MONTHS
    methods = [m for m in METHOD_LABELS if m != "patrol" or patrol_ok]
    keep_choice("method", methods)
    method = sb.selectbox(
        "Method",
        methods,
        format_func=METHOD_LABELS.__getitem__,
        key="method",
        help=" ".join(f"{METHOD_LABELS[m].split(':')[0]}: {METHOD_QUESTIONS[m]}" for m in methods)
        + ("" if patrol_ok else f" Patrol areas need {MIN_PATROL_MONTHS} consecutive months."),
    )
    bandwidth_m: float | str = "auto"
    n_areas, max_across_m = 10, 400.0
    coverage, eps_m, min_samples, cell_m = 0.01, DEFAULT_EPS_M, DEFAULT_MIN_SAMPLES, 200.0
    if method == "patrol":
        n_areas = int(sb.slider("Patrol areas", 3, 30, 10, key="n_areas"))
        max_across_m = float(
            sb.select_slider(
                "Largest across (m)", [200, 300, 400, 500, 600], 400, key="max_across_m"
            )
        )
        sb.caption("Fitted on the months chosen; it predicts the month after.")
    elif method == "kde":
        mode = sb.radio(
            "Bandwidth",
            ["auto", "metres"],
            key="bw_mode",
            horizontal=True,
            help="auto (the default): likelihood cross-validation across months: fit on the "
            "earlier months, score how well each bandwidth predicts the next. The value it "
            "chose is shown with the map. On police.uk's snapped points it picks a small "
            "bandwidth, because next month's reports recur at the same map points.",
        )
        if mode == "metres":
            bandwidth_m = float(
                sb.number_input("Bandwidth (m)", 20, 2000, 200, step=10, key="bandwidth_m")
            )
        coverage = (
            sb.slider("Coverage (% of the borough)", 0.25, 10.0, 1.0, 0.25, key="coverage_pct")
            / 100.0
        )
    elif method == "dbscan":
        eps_m = float(
            sb.number_input(
                "Neighbourhood eps (m)", 25, 1000, int(DEFAULT_EPS_M), step=25, key="eps_m"
            )
        )
        min_samples = int(
            sb.number_input("Minimum incidents", 2, 200, DEFAULT_MIN_SAMPLES, key="min_samples")
        )
    else:
        cell_m = float(
            sb.select_slider(
                "Cell size (m)", [100, 150, 200, 250, 300, 400], 200, key="gistar_cell_m"
            )
        )
        sb.caption("9,999 permutations, false-discovery-rate corrected, 95% confidence.")

    sb.subheader("Map")
    tiles = sb.selectbox(
        "Background", list(TILE_OPTIONS), format_func=TILE_OPTIONS.__getitem__, key="tiles"
    )
    rings = sb.multiselect(
        "Venue reach rings (m)", _RING_CHOICES, default=[400, 800], key="rings_m"
    )
    show_density = method in ("kde", "patrol") and sb.checkbox(
        "Risk surface (expected per cell)" if method == "patrol" else "Density surface",
        key="show_density",
        help="The KDE surface as a transparent image. When the hotspots' bandwidth is under "
        "50 m (the auto choice on police.uk data is usually 6.25 m, about the count per 50 m "
        "cell), the layer is drawn at 150 m so it can be read at the borough's scale; its "
        "legend says which.",
    )
    show_points = sb.checkbox(
        "Incident points",
        key="show_points",
        help="Incidents grouped in 250 m squares; single map points from zoom 15.",
    )
    return Filters(
        view=view,
        types=tuple(types),
        month_from=month_from,
        month_to=month_to,
        level=level,
        measure=measure,
        method=method,
        bandwidth_m=bandwidth_m,
        coverage=float(coverage),
        eps_m=float(eps_m),
        min_samples=int(min_samples),
        gistar_cell_m=float(cell_m),
        tiles=None if tiles == "none" else tiles,
        rings_m=tuple(float(r) for r in sorted(rings)),
        show_density=bool(show_density),
        show_points=bool(show_points),
        sources=tuple(sources),
        n_areas=n_areas,
        max_across_m=max_across_m,
    )
