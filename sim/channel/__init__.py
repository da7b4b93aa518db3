"""Wireless channels: capacity processes, physical links, traces, errors, sharing, radio power.

One concept per module:

* ``capacity``: c(t) [bit/s] as piecewise-constant segments, finish times by integration;
  constant, series/trace replay, Markov / Gilbert-Elliott sources.
* ``pathloss``: 3GPP TR 38.901 path loss, LOS probability, shadowing and K-factor tables.
* ``fading``: Rayleigh/Rician gains correlated by Doppler (sum of sinusoids, AR(1), block).
* ``ratemap``: SINR -> rate (LTE/NR CQI tables, truncated Shannon, Shannon gap, 802.11 MCS).
* ``mobility``: static, straight line, random waypoint trajectories.
* ``physical``: the physical uplink source combining all of the above, with handover.
* ``gilbert``: discrete-time Gilbert-Elliott sequences.
* ``harq``: block errors (BLER curve or GE), HARQ, application retries.
* ``shared``: shared cells (round robin, proportional fair).
* ``link``: a device's uplink (FIFO, retries, radio meter).
* ``radio``: radio power-state models (Huang MobiSys'12; Lauridsen Tx-power term).
* ``traces``: trace loaders (mahimahi, time_s Mbps, CSV, Irish 5G, 5Gophers).
* ``fit``: fitting Markov / Gilbert-Elliott models to traces, and their statistics.
* ``config``: the scenario's ``cells:`` schema and the builders the engine calls.
"""
