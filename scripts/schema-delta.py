#!/usr/bin/env python3
"""Prints the statements of the EF model's schema that the existing migration scripts do not create yet.

usage: scripts/schema-delta.py sqlite|postgres   (run from the repository root; builds nothing, run `dotnet build` first)
The output is the starting point of the next NNNN_name.sql; review it (ALTERs for changed tables are not generated).
"""
import pathlib, re, subprocess, sys

provider = sys.argv[1]
folder = {"sqlite": "Sqlite", "postgres": "Postgres"}[provider]
model = subprocess.run(["dotnet", "run", "--no-build", "--no-launch-profile", "--project", "src/AgentMarket", "--", "db", "script", provider],
                       check=True, capture_output=True, text=True).stdout

def statements(sql):
    sql = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    return [s.strip() for s in sql.split(";") if s.strip()]

def name(statement):
    match = re.match(r'CREATE (?:UNIQUE )?(?:TABLE|INDEX) "?([a-z0-9_]+)"?', statement)
    if match:
        return match.group(1)
    # A foreign key added after the tables (EF does this for cycles) may already exist inline in an earlier script.
    match = re.match(r'ALTER TABLE "?[a-z0-9_]+"? ADD CONSTRAINT "?([a-z0-9_]+)"?', statement)
    return match.group(1) if match else statement

def constraints(sql):
    return set(re.findall(r'CONSTRAINT "?([a-z0-9_]+)"?', sql))

existing = set()
for script in sorted(pathlib.Path(f"src/AgentMarket/Platform/Data/Migrations/{folder}").glob("*.sql")):
    text = script.read_text()
    existing.update(name(s) for s in statements(text))
    existing.update(constraints(text))
for statement in statements(model):
    if name(statement) not in existing:
        print(statement + ";\n")
