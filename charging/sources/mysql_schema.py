"""The customer's three tables, exactly as its KPI database has them (column names with spaces and
parentheses included). Used to build a database for the tests, the demo and the benchmark."""

SESSIONS_DDL = """
CREATE TABLE IF NOT EXISTS `{table}` (
  `ID` VARCHAR(64) NOT NULL PRIMARY KEY,
  `Site` VARCHAR(120),
  `Name Project` VARCHAR(120),
  `PDC` VARCHAR(64),
  `Datetime start` DATETIME,
  `Datetime end` DATETIME,
  `State of charge(0:good, 1:error)` TINYINT,
  `is_ok` TINYINT,
  `type_erreur` VARCHAR(32),
  `moment` VARCHAR(32),
  `moment_avancee` VARCHAR(32),
  `Energy (Kwh)` DOUBLE,
  `Mean Power (Kw)` DOUBLE,
  `Max Power (Kw)` DOUBLE,
  `SOC Start` DOUBLE,
  `SOC End` DOUBLE,
  `EVI Error Code` INT,
  `Downstream Code PC` INT,
  `EVI Status during error` INT,
  `MAC Address` VARCHAR(32),
  `charge_900V` TINYINT,
  {extra}
  KEY `start` (`Datetime start`)
) CHARACTER SET utf8mb4
"""

# Columns some installations have; the tests and the demo include them.
SESSIONS_EXTRA_DDL = "`Vehicle` VARCHAR(120), `warning` VARCHAR(255), `duration` INT,"

FAULTS_DDL = """
CREATE TABLE IF NOT EXISTS `{table}` (
  `id` INT NOT NULL PRIMARY KEY,
  `site` VARCHAR(120),
  `date_debut` DATETIME,
  `date_fin` DATETIME NULL,
  `defaut` VARCHAR(255),
  `eqp` VARCHAR(120),
  `bit_position` INT,
  `field_name` VARCHAR(120)
) CHARACTER SET utf8mb4
"""

VEHICLES_DDL = """
CREATE TABLE IF NOT EXISTS `{table}` (
  `MAC` VARCHAR(32) NOT NULL PRIMARY KEY,
  `Vehicle` VARCHAR(120)
) CHARACTER SET utf8mb4
"""

SESSION_COLUMNS = [
    "ID", "Site", "Name Project", "PDC", "Datetime start", "Datetime end", "State of charge(0:good, 1:error)",
    "is_ok", "type_erreur", "moment", "moment_avancee", "Energy (Kwh)", "Mean Power (Kw)", "Max Power (Kw)",
    "SOC Start", "SOC End", "EVI Error Code", "Downstream Code PC", "EVI Status during error", "MAC Address",
    "charge_900V",
]  # fmt: skip
SESSION_EXTRA_COLUMNS = ["Vehicle", "warning", "duration"]
FAULT_COLUMNS = ["id", "site", "date_debut", "date_fin", "defaut", "eqp", "bit_position", "field_name"]
VEHICLE_COLUMNS = ["MAC", "Vehicle"]


def create_tables(cursor, *, sessions="kpi_sessions", faults="kpi_defauts_log", vehicles="mac_lookup",
                  extra_columns: bool = True) -> None:  # fmt: skip
    cursor.execute(SESSIONS_DDL.format(table=sessions, extra=SESSIONS_EXTRA_DDL if extra_columns else ""))
    cursor.execute(FAULTS_DDL.format(table=faults))
    cursor.execute(VEHICLES_DDL.format(table=vehicles))
