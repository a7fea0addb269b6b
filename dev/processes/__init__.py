"""The real processes the dev server, the end-to-end tests and the benchmarks run.

Home Assistant (:mod:`.hass_process`), Mosquitto (:mod:`.mosquitto`), the firmware service
and units under the SDK's launcher (:mod:`.firmware_processes`), the desktops service
(:mod:`.desktops_process`), git repositories (:mod:`.git_repo`), PostgreSQL
(:mod:`.postgres`) and free ports (:mod:`.ports`).
"""
