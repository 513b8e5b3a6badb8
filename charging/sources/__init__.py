"""Where charging rows come from: a MySQL/MariaDB database or uploaded files. These modules are the
only ones that know the customer's column names."""
