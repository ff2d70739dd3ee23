namespace AnalysisRunner.Server.Web;

/// <summary>
/// The pages' only style sheet and script, served from memory (no front-end build, no folder on
/// disk). The script is progressive: without it, a job page shows the log as it was when loaded.
/// </summary>
internal static class StaticFiles
{
    public const string StylePath = "/static/site.css";
    public const string FollowScriptPath = "/static/follow.js";

    public static void MapStaticFiles(this IEndpointRouteBuilder app)
    {
        app.MapGet(StylePath, () => Results.Text(Style, "text/css; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet(FollowScriptPath, () => Results.Text(FollowScript, "text/javascript; charset=utf-8")).AllowAnonymous().ExcludeFromDescription();
    }

    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #1d232a; background: #fafbfc; }
        header { background: #24324a; color: #fff; padding: .5rem 1rem; display: flex; gap: 1rem; align-items: center; }
        header a.home { color: #fff; font-weight: 600; text-decoration: none; margin-right: auto; }
        header .who { font-size: .9rem; }
        main { padding: 1rem 1.5rem; max-width: 90rem; }
        h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
        table { border-collapse: collapse; width: 100%; font-size: .9rem; background: #fff; }
        th, td { border: 1px solid #d8dee4; padding: .3rem .5rem; text-align: left; vertical-align: top; }
        th { background: #eef1f4; }
        pre, code { font-family: ui-monospace, monospace; font-size: .85rem; }
        pre { background: #f1f3f5; border: 1px solid #d8dee4; padding: .6rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
        pre.log { background: #111; color: #e6e6e6; max-height: 40rem; overflow-y: auto; }
        form.inline { display: inline; }
        form.filter { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: 1rem; }
        form.filter label { display: flex; flex-direction: column; font-size: .8rem; }
        .state { font-weight: 600; } .Succeeded { color: #1a7f37; } .Failed { color: #cf222e; } .Running { color: #0969da; }
        .Cancelled { color: #6e7781; } .Pending, .Ready { color: #9a6700; }
        .error { color: #cf222e; font-weight: 600; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dl.facts dt { font-weight: 600; }
        svg.dag { background: #fff; border: 1px solid #d8dee4; max-width: 100%; height: auto; }
        svg.chart { background: #fff; border: 1px solid #d8dee4; }
        """;

    // Follows every <pre data-follow="URL" data-offset="N">: appends what the server-sent events carry
    // after byte N, and stops on "end". textContent only, so a log can never become markup.
    private const string FollowScript = """
        document.addEventListener('DOMContentLoaded', () => {
          for (const pre of document.querySelectorAll('pre[data-follow]')) {
            if (!window.EventSource) return;
            const url = pre.dataset.follow + '?from=' + encodeURIComponent(pre.dataset.offset || '0');
            const source = new EventSource(url);
            source.onmessage = (event) => {
              const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
              pre.append(document.createTextNode(JSON.parse(event.data)));
              if (atBottom) pre.scrollTop = pre.scrollHeight;
            };
            source.addEventListener('end', () => { source.close(); pre.dataset.ended = 'true'; });
            source.onerror = () => { if (source.readyState === EventSource.CLOSED) pre.dataset.ended = 'true'; };
          }
        });
        """;
}
