#!/bin/bash
# One process: the simulator keeps its state in memory (and in RAIDA_STATE_FILE when set).
exec step-platform serve raida-mock --host 0.0.0.0 --port 8090
