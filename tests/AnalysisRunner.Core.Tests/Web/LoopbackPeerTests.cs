using System.Diagnostics;
using System.Net;
using AnalysisRunner.Core.Tests.TestSupport;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Hosting;

namespace AnalysisRunner.Core.Tests.Web;

/// <summary>Reading which OS account owns the client end of a loopback connection from /proc/net/tcp rows.</summary>
public sealed class LoopbackPeerTests
{
    private const string Header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

    [Fact]
    public void The_client_row_is_found_by_its_local_and_remote_ends_not_the_servers_row()
    {
        var client = new IPEndPoint(IPAddress.Loopback, 0xA1B2);
        var server = new IPEndPoint(IPAddress.Loopback, 0x13BA);
        string[] rows =
        [
            Header,
            "   0: 0100007F:13BA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0",
            "   1: 0100007F:13BA 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1",
            "   2: 0100007F:A1B2 0100007F:13BA 01 00000000:00000000 00:00000000 00000000 65534        0 3 1 0000000000000000 20 4 30 10 -1",
        ];
        Assert.Equal(65534, LoopbackPeer.Find(rows, client, server));
        Assert.Null(LoopbackPeer.Find(rows, new IPEndPoint(IPAddress.Loopback, 0xA1B3), server));
    }

    [Fact]
    public void An_ipv4_mapped_connection_is_found_in_the_tcp6_form()
    {
        var client = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 0x0050);
        var server = new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 0x1F90);
        string[] rows =
        [
            Header,
            "   0: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 5 1",
        ];
        Assert.Equal(1000, LoopbackPeer.Find(rows, client, server));
    }

    [Fact]
    public void A_connection_from_this_process_is_this_users()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new System.Net.Sockets.TcpClient();
        client.Connect((IPEndPoint)listener.LocalEndpoint);
        using var accepted = listener.AcceptTcpClient();
        Assert.True(LoopbackPeer.IsThisUser(accepted.Client.RemoteEndPoint, accepted.Client.LocalEndPoint));
        Assert.False(LoopbackPeer.IsThisUser(null, accepted.Client.LocalEndPoint));
    }
}

/// <summary>The embedded web closes connections of other OS accounts unanswered (connecting as nobody, through runuser).</summary>
[RequiresRoot]
public sealed class EmbeddedWebOtherAccountTests : IAsyncLifetime
{
    private readonly WebWorld _world = new();
    private Microsoft.AspNetCore.Builder.WebApplication? _app;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        if (RequiresRootAttribute.MissingReason is not null) return;
        File.AppendAllText(Path.Combine(_world.HomePath, "settings.toml"), $"\n[identity.users]\n\"{Environment.UserName}\" = \"{WebWorld.Alice}\"\n");
        _app = EmbeddedWeb.Build(["--runner:home=" + _world.HomePath, "--server:urls=http://127.0.0.1:0"], TextWriter.Null);
        await EmbeddedWeb.StartAsync(_app);
        _address = ServerHost.Addresses(_app).Single();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _world.Dispose();
    }

    /// <summary>A raw HTTP GET through bash's /dev/tcp, as <paramref name="account"/> (null: this account); what came back.</summary>
    private async Task<string> GetAsAsync(string? account)
    {
        var script = $"exec 3<>/dev/tcp/127.0.0.1/{_address.Port} && printf 'GET / HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && cat <&3";
        var start = account is null ? new ProcessStartInfo("bash") : new ProcessStartInfo("/usr/sbin/runuser");
        if (account is not null) foreach (var argument in new[] { "-u", account, "--", "bash" }) start.ArgumentList.Add(argument);
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    [BackendFact]
    public async Task Another_accounts_connection_is_closed_unanswered_while_this_accounts_is_served()
    {
        Assert.StartsWith("HTTP/1.1 302", await GetAsAsync(null));
        Assert.Equal("", await GetAsAsync("nobody"));
    }
}
