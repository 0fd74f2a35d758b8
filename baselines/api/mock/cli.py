"""``ieval mock-server``: the loopback mock of every image-editing API, from a shell."""

from __future__ import annotations

import typer


def serve(port: int, latency: float, faults: str, hang: float) -> None:
    """Run the mock until interrupted; print its URL and the environment lines that point editors at it."""
    from baselines.api.mock.server import MockServer

    try:
        server = MockServer(port, latency_s=latency, faults=faults or None, hang_s=hang)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"mock API server listening on {server.url}", err=False)
    for name, value in server.env().items():
        typer.echo(f"export {name}={value}")
    typer.echo(f"call counts: GET {server.url}/_stats   reset: POST {server.url}/_reset")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    @app.command("mock-server")
    def mock_server(
        port: int = typer.Option(8765, "--port", help="TCP port on 127.0.0.1 (0 picks a free one)."),
        latency: float = typer.Option(0.0, "--latency", help="Seconds each edit call takes."),
        faults: str = typer.Option(
            "", "--faults", help="Share of prompts that fail once, e.g. '429=0.1,500=0.05,retry_after=1'."
        ),
        hang: float = typer.Option(30.0, "--hang", help="Seconds a 'timeout' fault holds the request."),
    ) -> None:
        """Serve a loopback mock of the OpenAI, Gemini, BFL, Ark, DashScope, Stability and Replicate APIs."""
        serve(port, latency, faults, hang)
