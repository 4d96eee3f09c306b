"""Credentials for users' own s3:// files: those of the project's DVC remote on the same
bucket, else of its default remote when that is on S3, else AWS's own chain."""

from __future__ import annotations

from winequality.adapters.dvc.repository import Repository
from winequality.errors import StoreError


def bucket_filesystem(repository: Repository, url: str):
    """An fsspec filesystem for the s3:// address `url`, holding the credentials of the
    DVC remote on the same bucket, else of the default remote when it is on S3; with
    neither, AWS's own chain (AWS_* variables, ~/.aws) decides.

    So a file in the team's bucket is read with exactly what `dvc pull` uses.
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    bucket = url.removeprefix("s3://").split("/", 1)[0]
    try:
        repo = Repo(str(repository.root))
    except DvcException:
        repo = None
    try:
        if repo is not None:
            remotes = {
                name: config
                for name, config in repo.config["remote"].items()
                if str(config.get("url", "")).startswith("s3://")
            }
            same = [n for n, c in remotes.items() if c["url"][5:].split("/")[0] == bucket]
            default = repository.default_remote(repo)
            # another bucket on the team's own endpoint (MinIO, ...) shares its keys;
            # a non-default remote's keys never go to a bucket it does not name
            chosen = next(iter(same), default if default in remotes else None)
            if chosen is not None:
                try:
                    return repo.cloud.get_remote(chosen).fs.fs
                except DvcException as exc:
                    raise StoreError(f"DVC remote {chosen}: {exc}") from exc
    finally:
        if repo is not None:
            repo.close()
    return aws_filesystem(url)


def aws_filesystem(url: str):
    """An fsspec filesystem for `url` with AWS's own credential chain."""
    try:
        import s3fs
    except ImportError:
        raise StoreError(f"{url}: reading s3:// needs s3fs; `pip install 'wineq[s3]'`") from None
    return s3fs.S3FileSystem()
