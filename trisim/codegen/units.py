"""One unit table for every target: NESTML's declared units, PyNN's units and the factor between.

NESTML models compute in the units they declare (NEST's convention: ms, mV, pA, nS, pF...);
PyNN users write ms, mV, nA, uS, nF. A quantity's PyNN unit follows from its dimension in the
(time, voltage, current) system PyNN uses (ms, mV, nA; lengths in um), so conductance is uS,
capacitance nF and resistance MOhm. Every target converts with the same factor, once, where a
value enters it.
"""

from dataclasses import dataclass
from fractions import Fraction

# PyNN's base units, as SI scale factors
_PYNN_SCALE = {"time": 1e-3, "voltage": 1e-3, "current": 1e-9, "length": 1e-6}
_PYNN_NAMES = {
    (0, 0, 0, 0): "1", (1, 0, 0, 0): "ms", (0, 1, 0, 0): "mV", (0, 0, 1, 0): "nA",
    (0, -1, 1, 0): "uS", (1, -1, 1, 0): "nF", (0, 1, -1, 0): "MOhm", (-1, 0, 0, 0): "1/ms",
    (-1, 1, 0, 0): "mV/ms", (-1, 0, 1, 0): "nA/ms", (1, 0, 1, 0): "pC", (0, 0, 0, 1): "um",
}


@dataclass(frozen=True)
class Unit:
    """A NESTML unit: its name, SI scale and dimension in PyNN's (T, V, I, L) system."""

    name: str
    si_scale: float
    dimension: tuple  # exponents of (time, voltage, current, length)
    si_powers: tuple  # exponents of (kg, m, s, A), for Brian2

    @property
    def pynn_name(self):
        return _PYNN_NAMES.get(self.dimension) or " ".join(
            f"{base}^{power}" for base, power in zip(("ms", "mV", "nA", "um"), self.dimension)
            if power)

    @property
    def pynn_to_nestml(self):
        """Multiply a value in PyNN's unit by this to get it in the NESTML unit."""
        pynn_scale = 1.0
        for base, power in zip(("time", "voltage", "current", "length"), self.dimension):
            pynn_scale *= _PYNN_SCALE[base] ** power
        return float(f"{pynn_scale / self.si_scale:.12g}")

    @property
    def is_dimensionless(self):
        return self.dimension == (0, 0, 0, 0)


DIMENSIONLESS = Unit("1", 1.0, (0, 0, 0, 0), (0, 0, 0, 0))


def from_astropy(unit):
    """The :class:`Unit` of an astropy unit (NESTML's type symbols carry these)."""
    decomposed = unit.decompose()
    powers = dict(zip((str(b) for b in decomposed.bases), decomposed.powers))
    kg, m, s, amp = (Fraction(powers.get(b, 0)).limit_denominator(12)
                     for b in ("kg", "m", "s", "A"))
    # kg m^2 s^-3 A^-1 is a volt: fold mass (with two lengths each) into voltage
    voltage = kg
    dimension = (s + 3 * kg, voltage, amp + kg, m - 2 * kg)
    return Unit(name=unit.to_string().replace(" ", ""), si_scale=float(decomposed.scale),
                dimension=tuple(int(x) if x.denominator == 1 else float(x) for x in dimension),
                si_powers=tuple(float(x) for x in (kg, m, s, amp)))


def of_type_symbol(type_symbol):
    """The :class:`Unit` of a NESTML type symbol (real, integer, boolean: dimensionless)."""
    import astropy.units as u  # here, not above: a model loaded from the cache needs no
    # astropy, whose import costs ~0.4 s per process
    unit = getattr(getattr(type_symbol, "unit", None), "unit", None)
    if unit is None or unit == u.dimensionless_unscaled:
        return DIMENSIONLESS
    return from_astropy(unit)
