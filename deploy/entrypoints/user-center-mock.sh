#!/bin/bash
# One process: the key is made once and kept in STEP_STATE_DIR.
exec step-platform serve user-center-mock --host 0.0.0.0 --port 8091
