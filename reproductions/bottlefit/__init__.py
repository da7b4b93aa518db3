"""BottleFit (Matsubara et al., WoWMoM 2022): the abstract's comparisons at named operating points.

Modules, each importing only those above it: :mod:`~reproductions.bottlefit.data`
(the abstract's figures, operating points, sizes), :mod:`~reproductions.bottlefit.runs`
(sweep specs run by ``sim.sweep``; one row per run), :mod:`~reproductions.bottlefit.claims`
(reductions with intervals, the verdicts, inputs and board timings),
:mod:`~reproductions.bottlefit.figures`, :mod:`~reproductions.bottlefit.policies`
(the policy comparison) and :mod:`~reproductions.bottlefit.__main__` (the command)::

    python -m reproductions.bottlefit --size full --out docs/bottlefit
"""
