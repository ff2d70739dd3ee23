using System.Management.Automation;
using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Web;

namespace AnalysisRunner.PowerShell;

/// <summary>
/// What Show-Batch and Show-AnalysisLog share: the web address (a server's own when the module talks
/// to one, else [web] url of the runner home; neither is WebAddressNotConfigured, which ends the
/// pipeline), and opening a page in the default browser, or writing its address where there is none.
/// </summary>
public abstract class ShowPageCmdlet : AnalysisRunnerCmdlet
{
    private WebAddress? _web;
    private bool _webChosen;
    private DefaultBrowser? _browser;
    private bool _browserFound;

    /// <summary>Write each page's address to the pipeline as well as opening it.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override WebAddress? Web
    {
        get
        {
            if (_webChosen) return _web;
            _web = RunnerTarget.Choose(null, RunnerHome, ClientSettings.ForCurrentUser()) switch
            {
                RunnerTarget.Remote remote => WebAddress.Parse(remote.Connection.Server.ToString(), "the server address"),
                _ => Deployment.Settings.Web,
            };
            _webChosen = true;
            return _web;
        }
    }

    /// <summary>The web address, or the pipeline ends with WebAddressNotConfigured: no later input could have a page either.</summary>
    protected WebAddress RequireWeb()
    {
        if (Web is { } web) return web;
        ThrowTerminating(WebAddress.NotConfigured(Deployment.Home.SettingsPath));
        throw new InvalidOperationException("unreachable: ThrowTerminating ends the pipeline");
    }

    /// <summary>Opens the page where there is a browser; writes its address where there is none, or with -PassThru.</summary>
    protected void ShowPage(string url)
    {
        if (!_browserFound)
        {
            _browser = DefaultBrowser.Find();
            _browserFound = true;
        }
        if (_browser is not null)
        {
            WriteVerbose($"Opening {url} with {_browser.Command}");
            _browser.Open(url);
        }
        if (_browser is null || PassThru) WriteObject(url);
    }
}
