"""Line charts drawn on the server as SVG (decision 0016).

A ``LineChart`` holds the figures and works out where each point goes; the template
``wagtail_preferences/admin/includes/line_chart.html`` (the ``line_chart`` tag) draws it
with classes only, no style attribute and no script, and lists the same figures in a table.
Colours come from ``css/reports.css``, on Wagtail's theme variables.
"""

import math
from dataclasses import dataclass, field

#: The drawing's own units; the SVG scales to the width of its box.
WIDTH, HEIGHT = 720, 260
#: Room for the axis labels: left, top, right, bottom.
MARGIN = (48, 12, 40, 40)
#: At most this many labels under the x axis; the others are left out.
X_LABELS = 8
#: At most this many horizontal grid lines (and y labels) above zero.
Y_TICKS = 5
#: Series styles, one per series in turn: a colour and a dash pattern (so that the lines
#: differ without colour too).
STYLES = 4


@dataclass
class Series:
    label: str
    values: list[int]


@dataclass
class Point:
    x: float
    y: float
    label: str
    value: int


@dataclass
class LineChart:
    """Series of counts over the same ``labels`` (one label per point)."""

    title: str
    description: str
    labels: list[str]
    series: list[Series] = field(default_factory=list)

    @property
    def step(self) -> int:
        """The gap between two grid lines: a round number (1, 2, 2.5 or 5 times a power of
        ten, a whole number) that needs at most ``Y_TICKS`` lines to pass the highest count."""
        highest = max((max(s.values, default=0) for s in self.series), default=0)
        if highest <= Y_TICKS:
            return 1
        least = highest / Y_TICKS
        magnitude = 10 ** math.floor(math.log10(least))
        return next(
            int(step)
            for n in (1, 2, 2.5, 5, 10)
            if (step := n * magnitude) >= least and step == int(step)
        )

    @property
    def ticks(self) -> int:
        highest = max((max(s.values, default=0) for s in self.series), default=0)
        return max(1, math.ceil(highest / self.step))

    @property
    def top(self) -> int:
        """The y axis' highest value, at or above the highest count."""
        return self.step * self.ticks

    def _x(self, index: int) -> float:
        left, _, right, _ = MARGIN
        if len(self.labels) < 2:
            return left + (WIDTH - left - right) / 2
        return left + index * (WIDTH - left - right) / (len(self.labels) - 1)

    def _y(self, value: float) -> float:
        _, top, _, bottom = MARGIN
        return top + (HEIGHT - top - bottom) * (1 - value / self.top)

    def lines(self) -> list[dict]:
        """Per series: its label, its style number, the ``points`` attribute of its
        polyline, and its points."""
        drawn = []
        for number, series in enumerate(self.series):
            points = [
                Point(round(self._x(i), 1), round(self._y(v), 1), self.labels[i], v)
                for i, v in enumerate(series.values)
            ]
            drawn.append(
                {
                    "label": series.label,
                    "style": number % STYLES + 1,
                    "polyline": " ".join(f"{p.x},{p.y}" for p in points),
                    "points": points,
                }
            )
        return drawn

    def y_ticks(self) -> list[tuple[float, int]]:
        """(y, value) of each horizontal grid line, zero included."""
        return [(round(self._y(self.step * n), 1), self.step * n) for n in range(self.ticks + 1)]

    def x_ticks(self) -> list[tuple[float, str]]:
        """(x, label) of the labels shown under the x axis: the first, the last, and evenly
        spaced ones between."""
        count = len(self.labels)
        step = max(1, math.ceil((count - 1) / (X_LABELS - 1))) if count > 1 else 1
        shown = list(range(0, count, step))
        if shown and shown[-1] != count - 1:
            if count - 1 - shown[-1] < step / 2:
                shown.pop()
            shown.append(count - 1)
        return [(round(self._x(i), 1), self.labels[i]) for i in shown]

    def rows(self) -> list[tuple[str, list[int]]]:
        """The same figures as a table: (label, value of each series)."""
        return [(label, [s.values[i] for s in self.series]) for i, label in enumerate(self.labels)]

    @property
    def size(self) -> dict:
        left, top, right, bottom = MARGIN
        return {
            "width": WIDTH,
            "height": HEIGHT,
            "left": left,
            "right": WIDTH - right,
            "bottom": HEIGHT - bottom,
            "label_y": HEIGHT - bottom + 20,
        }
