"""The PostgreSQL tuning the benchmarks apply is the production stack's (docker/postgresql.conf)."""

from benchmarks import postgresql


def test_the_tuning_is_read_from_the_stacks_configuration(tmp_path):
    fichier = tmp_path / "postgresql.conf"
    fichier.write_text("# comment\nlisten_addresses = '*'\n\nshared_buffers = 4GB   # memory\nwork_mem='16MB'\n")
    assert postgresql.reglages(fichier) == {"listen_addresses": "*", "shared_buffers": "4GB", "work_mem": "16MB"}
    # By default, the file docker-compose.yml mounts into the postgres service.
    assert postgresql.FICHIER.relative_to(postgresql.RACINE).as_posix() == "docker/postgresql.conf"
    assert postgresql.reglages()["shared_buffers"] == "4GB"
