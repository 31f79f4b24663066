"""Write-audit-publish, ``publish`` itself on a small working database: versions, the log, staleness,
read-only files, pruning, interruptions, rollback and the docs site. The nightly gate: test_publication_gate."""

import functools

import duckdb
import pytest

from config.layout import DBT_PROJECT_DIR
from publication.log import Attempt
from publication.publish import publish
from tests.conftest import query


@pytest.fixture
def working(paths):
    paths.working_db.parent.mkdir(parents=True)
    con = duckdb.connect(str(paths.working_db))
    con.execute("create schema marts")
    con.execute("create table marts.alpha as select 1 as v")
    con.execute("create table marts.beta as select 10 as v")
    yield con
    con.close()


def _read(paths, sql):
    return query(paths.published_db, sql)


def test_a_failed_kpi_keeps_its_last_good_version_while_others_advance(paths, working):
    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run1")
    publish(working, paths, "b", ["beta"], {"beta": ("b", Attempt(2))}, "run1")
    assert _read(paths, "select (select v from marts.alpha), (select v from marts.beta)") == [(1, 10)]

    # Next night both marts change, but KPI b's checks fail: only KPI a publishes.
    working.execute("create or replace table marts.alpha as select 2 as v")
    working.execute("create or replace table marts.beta as select -1 as v")
    publish(
        working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3)), "beta": ("b", Attempt(2, ("gx_beta",)))}, "run2"
    )

    assert _read(paths, "select (select v from marts.alpha), (select v from marts.beta)") == [(2, 10)]
    log = _read(
        paths,
        "select mart, version_run_id, checks_passed, latest_attempt_run_id, latest_attempt_passed, "
        "latest_attempt_failures from marts.publication_log order by mart",
    )
    assert log == [
        ("alpha", "run2", True, "run2", True, None),
        ("beta", "run1", True, "run2", False, "gx_beta"),
    ]


def _log(paths, columns="*"):
    return _read(paths, f"select {columns} from marts.publication_log order by mart")


def test_a_kpi_with_nothing_new_writes_no_version_and_keeps_when_its_data_changed(paths, working):
    first = publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run1")
    [(changed_at, version)] = _log(paths, "data_changed_at, version_run_id")
    quiet = publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run2")
    assert not quiet.wrote_version and quiet.path == first.path == paths.published_db.resolve()
    assert len(list((paths.published_dir / "versions").glob("*.duckdb"))) == 1
    # the same rows rebuilt in another order are no change either
    working.execute("create or replace table marts.alpha as select * from (values (1)) t(v) order by v desc")
    assert not publish(working, paths, "a", ["alpha"], {}, "run3").wrote_version
    # the attempts went to the working log, which the next version carries
    working.execute("create or replace table marts.alpha as select 2 as v")
    changed = publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run4")
    assert changed.wrote_version and changed.fresh == ("alpha",)
    [(new_changed_at, new_version, attempt)] = _log(paths, "data_changed_at, version_run_id, latest_attempt_run_id")
    assert (new_version, attempt) == ("run4", "run4") and new_changed_at > changed_at and version == "run1"


def test_a_held_back_kpi_is_news_even_when_no_figure_changed(paths, working):
    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run1")
    publish(working, paths, "b", ["beta"], {"beta": ("b", Attempt(2))}, "run1")
    # next night nothing changed, but b's checks fail: a's step writes a version that says so
    result = publish(
        working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3)), "beta": ("b", Attempt(2, ("gx_beta",)))}, "run2"
    )
    assert result.wrote_version and result.fresh == ()
    assert _log(paths, "mart, version_run_id, latest_attempt_passed") == [
        ("alpha", "run1", True),
        ("beta", "run1", False),
    ]


def test_a_stale_kpi_publishes_marked_stale_or_is_held_back(paths, working):
    import datetime as dt

    from publication.log import KpiState

    stale = KpiState(
        loaded_as_of=dt.date(2020, 9, 30), stale_reason="x_202010.csv expected by 2020-11-10; latest delivered: 202009"
    )
    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run1", states={"a": stale})
    assert _log(paths, "is_stale, stale_reason, data_as_of") == [(True, stale.stale_reason, dt.date(2020, 9, 30))]
    assert _read(paths, "select v from marts.alpha") == [(1,)]
    # fresh again: no figure changed, but the file must stop saying stale
    assert publish(
        working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run2", states={"a": KpiState()}
    ).wrote_version
    assert _log(paths, "is_stale, stale_reason") == [(False, None)]
    # with stale_blocks, new figures of a stale KPI are held back and the log says why
    working.execute("create or replace table marts.alpha as select 2 as v")
    held = publish(
        working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run3", states={"a": stale}, stale_blocks=True
    )
    assert held.fresh == () and _read(paths, "select v from marts.alpha") == [(1,)]
    [(passed, failures, is_stale)] = _log(paths, "latest_attempt_passed, latest_attempt_failures, is_stale")
    assert (passed, is_stale) == (False, True) and failures == f"stale: {stale.stale_reason}"


def test_old_versions_are_pruned_and_the_link_is_relative(paths, working):
    for n in range(7):
        working.execute(f"create or replace table marts.alpha as select {n} as v")
        publish(working, paths, "a", ["alpha"], {}, f"run{n}", keep=3)
    versions = sorted((paths.published_dir / "versions").glob("*.duckdb"))
    assert len(versions) == 3
    assert paths.published_db.resolve() == versions[-1]
    assert not paths.published_db.readlink().is_absolute()
    assert not list(paths.published_dir.glob(".warehouse*"))


def _open_as_analyst(path, read_only: bool) -> str:
    """Open ``path`` as an analyst would: as a user that owns the file but is not root (root ignores
    file modes), the strictest case: the pipeline's own user."""
    import os

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child drops to another user, then opens the file
        os.close(read)
        try:
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            con = duckdb.connect(str(path), read_only=read_only)
            con.execute("create table if not exists marts.scribble as select 1" if not read_only else "select 1")
            message = "opened"
        except Exception as err:  # the message is the result
            message = f"{type(err).__name__}: {err}"
        os.write(write, message.encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as f:
        return f.read().decode()


def test_published_versions_are_read_only_files(paths, working):
    import os

    publish(working, paths, "a", ["alpha"], {}, "run1")
    version = paths.published_db.resolve()
    assert version.stat().st_mode & 0o777 == 0o444
    if os.getuid() == 0:  # the analyst below runs as nobody: let nobody own the version, as its pipeline would
        from publication import version_files

        version_files.release(version)  # (an immutable file cannot change owner)
        os.chown(version, 65534, 65534)
    for parent in version.parents:  # the analyst must be able to reach the file
        if parent == parent.parent:
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    # A default (read-write) connection fails at once instead of writing into the immutable version
    outcome = _open_as_analyst(paths.published_db, read_only=False)
    assert outcome.startswith("IOException") and "Permission denied" in outcome, outcome
    # ... so read-only readers are never locked out by one
    assert _open_as_analyst(paths.published_db, read_only=True) == "opened"
    assert query(
        paths.published_db, "select count(*) from information_schema.tables where table_name = 'scribble'"
    ) == [(0,)]


def test_an_interrupted_publication_leaves_nothing_the_next_one_keeps(paths, working):
    versions = paths.published_dir / "versions"
    versions.mkdir(parents=True)
    (versions / "warehouse_20200101T000000000000_a.duckdb.building").write_bytes(b"half")
    (paths.published_dir / ".warehouse.duckdb.0123abcd").symlink_to("versions/nowhere")
    publish(working, paths, "a", ["alpha"], {}, "run1")
    assert [p.name for p in versions.iterdir()] == [paths.published_db.resolve().name]
    assert sorted(p.name for p in paths.published_dir.iterdir()) == ["versions", "warehouse.duckdb"]


def test_a_rollback_repoints_the_published_database_logs_it_and_holds_until_the_figures_change(paths, working):
    from publication.rollback import RollbackError, rollback

    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run1")
    publish(working, paths, "b", ["beta"], {"beta": ("b", Attempt(2))}, "run1")
    good = paths.published_db.resolve()
    working.execute("create or replace table marts.alpha as select 2 as v")  # wrong figures that passed their checks
    bad = publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run2").path
    assert _read(paths, "select v from marts.alpha") == [(2,)]

    with pytest.raises(RollbackError, match="no published version 'nonsense.duckdb'"):
        rollback(working, paths, "nonsense.duckdb", "why")
    with pytest.raises(RollbackError, match="is the published version already"):
        rollback(working, paths, bad.name, "why")
    made = rollback(working, paths, good.name, "alpha double-counted in run2")
    # a new, read-only version with the good figures, which the link shows; the bad one is kept
    assert paths.published_db.resolve() == made and made.name.endswith("_rollback.duckdb") and bad.exists()
    assert made.stat().st_mode & 0o777 == 0o444
    assert _read(paths, "select (select v from marts.alpha), (select v from marts.beta)") == [(1, 10)]
    log = _log(
        paths, "mart, version_run_id, rolled_back_from, rolled_back_to, rollback_reason, rolled_back_at is not null"
    )
    assert log == [
        ("alpha", "run1", bad.name, good.name, "alpha double-counted in run2", True),
        ("beta", "run1", bad.name, good.name, "alpha double-counted in run2", True),
    ]

    # a quiet night does not publish the withdrawn figures again; beta's new figures do publish
    working.execute("create or replace table marts.beta as select 11 as v")
    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run3")
    publish(working, paths, "b", ["beta"], {"beta": ("b", Attempt(2))}, "run3")
    assert _read(paths, "select (select v from marts.alpha), (select v from marts.beta)") == [(1, 11)]
    assert _log(paths, "mart, version_run_id, rolled_back_to is not null") == [
        ("alpha", "run1", True),
        ("beta", "run3", False),
    ]
    # alpha's figures, corrected, are news again
    working.execute("create or replace table marts.alpha as select 3 as v")
    publish(working, paths, "a", ["alpha"], {"alpha": ("a", Attempt(3))}, "run4")
    assert _read(paths, "select v from marts.alpha") == [(3,)]
    assert _log(paths, "mart, version_run_id, rolled_back_to") == [("alpha", "run4", None), ("beta", "run3", None)]


@pytest.mark.pipeline  # real dbt docs generate, twice: ~20 s, too slow for make test-fast
def test_each_version_shows_the_docs_site_of_what_it_holds(paths, working, tmp_path):
    """A real ``dbt docs generate --static`` per new schema; the same schema links the same site."""
    import shutil

    from config.settings import Settings
    from publication import docs_site, version_files
    from publication.rollback import rollback

    warnings = []
    site = functools.partial(docs_site.build, settings=Settings.from_env(), log=warnings.append)
    first = publish(working, paths, "a", ["alpha"], {}, "run1", keep=2, site=site).path
    link = version_files.docs_link(paths)
    assert link.resolve() == version_files.site_of(first) and not link.readlink().is_absolute()
    html = link.read_text(encoding="utf-8")
    assert html.startswith(docs_site.DOCS_KEY_PREFIX) and "Pension operations warehouse" in html
    assert "employer_reconciliation" in html  # the project's marts, documented
    assert version_files.site_of(first).stat().st_mode & 0o777 == 0o444

    working.execute("create or replace table marts.alpha as select 2 as v")  # new rows, same schema: same site
    second = publish(working, paths, "a", ["alpha"], {}, "run2", keep=2, site=site).path
    assert version_files.site_of(second).stat().st_ino == version_files.site_of(first).stat().st_ino
    working.execute("create or replace table marts.alpha as select 3 as v, 'x' as w")  # a new column: a new site
    third = publish(working, paths, "a", ["alpha"], {}, "run3", keep=2, site=site).path
    assert version_files.site_of(third).stat().st_ino != version_files.site_of(second).stat().st_ino
    assert link.resolve() == version_files.site_of(third)
    assert not version_files.site_of(first).exists() and not first.exists()  # pruned with its version

    made = rollback(working, paths, second.name, "w is wrong")  # a rollback shows its target's site
    assert link.resolve() == version_files.site_of(made)
    assert version_files.site_of(made).stat().st_ino == version_files.site_of(second).stat().st_ino

    # dbt cannot make a site: the figures publish all the same, and the link keeps the last site
    broken = tmp_path / "broken_project"
    shutil.copytree(DBT_PROJECT_DIR, broken, ignore=shutil.ignore_patterns("target", "logs"))
    (broken / "models" / "broken.sql").write_text("select {{ nonsense( }}", encoding="utf-8")
    working.execute("create or replace table marts.alpha as select 4 as v, 'y' as w, 1 as z")
    fourth = publish(
        working, paths, "a", ["alpha"], {}, "run4", keep=2, site=functools.partial(site, project_dir=broken)
    ).path
    assert paths.published_db.resolve() == fourth and _read(paths, "select z from marts.alpha") == [(1,)]
    assert not version_files.site_of(fourth).exists() and link.resolve() == version_files.site_of(made)
    [warning] = warnings
    assert warning.startswith(f"no docs site for {fourth.name}: dbt docs generate failed")
