"""A progress bar for commands that work in batches."""

BAR_WIDTH = 30


class Progress:
    """A bar on one line of ``out``, redrawn after each batch: ``progress(done, total)``.

    ``passes`` names the passes over the file, as a new pass starts again from zero.
    """

    def __init__(self, out, *, shown: bool, passes: list[str], unit: str = "rows"):
        self.out, self.shown, self.passes, self.unit = out, shown, passes, unit
        self.current, self.done, self.drawn = 0, 0, False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.shown:
            return
        if done <= self.done:  # each batch reads rows: a new pass has begun
            self.out.write("")
            self.current = min(self.current + 1, len(self.passes) - 1)
        self.done = done
        label = self.passes[self.current]
        if total:
            share = min(done / total, 1)
            filled = round(share * BAR_WIDTH)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            text = f"{label} [{bar}] {share:4.0%} {done:,}/{total:,} {self.unit}"
        else:
            text = f"{label} {done:,} {self.unit}"
        self.out.write(f"\r{text}", ending="")
        self.out.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            self.out.write("")
