using AnalysisRunner.Core.Client;
using AnalysisRunner.Core.Hosting;
using AnalysisRunner.Core.Tests.TestSupport;

namespace AnalysisRunner.Core.Tests.Client;

/// <summary>These set AR_SERVER/AR_TOKEN for the process, so they run one at a time (one class) and put them back.</summary>
[Collection(PostgresClientCollection.Name)]
public sealed class ClientSettingsTests : IDisposable
{
    private readonly TempFolder _folder = new("ar-client");
    private readonly string? _server = Environment.GetEnvironmentVariable(ClientSettings.ServerVariable);
    private readonly string? _token = Environment.GetEnvironmentVariable(ClientSettings.TokenVariable);
    private readonly ClientSettings _settings;

    public ClientSettingsTests()
    {
        Environment.SetEnvironmentVariable(ClientSettings.ServerVariable, null);
        Environment.SetEnvironmentVariable(ClientSettings.TokenVariable, null);
        _settings = new ClientSettings(_folder.Combine("config", "analysis-runner"));
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(ClientSettings.ServerVariable, _server);
        Environment.SetEnvironmentVariable(ClientSettings.TokenVariable, _token);
        _folder.Dispose();
    }

    [Fact]
    public void The_token_is_stored_alone_readable_only_by_its_owner()
    {
        _settings.Save(new Uri("https://runner.lab.org"), "art_secret");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_settings.TokenPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_settings.Folder));
        Assert.DoesNotContain("art_secret", File.ReadAllText(_settings.SettingsPath));
        Assert.Equal("art_secret", _settings.ReadToken());
        Assert.Equal(new Uri("https://runner.lab.org"), _settings.ReadServer());
        Assert.Empty(Directory.GetFiles(_settings.Folder, "*.tmp"));

        _settings.Save(new Uri("https://runner.lab.org"), "art_other");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_settings.TokenPath));
        Assert.Equal("art_other", _settings.ReadToken());
    }

    [Fact]
    public void The_environment_overrides_what_is_stored_and_an_explicit_server_overrides_both()
    {
        Assert.Null(_settings.Resolve());
        _settings.Save(new Uri("https://stored.lab.org"), "art_stored");
        Assert.Equal(("https://stored.lab.org/", "art_stored"), Pair(_settings.Resolve()));

        Environment.SetEnvironmentVariable(ClientSettings.TokenVariable, "art_env");
        Assert.Equal(("https://stored.lab.org/", "art_env"), Pair(_settings.Resolve()));

        Environment.SetEnvironmentVariable(ClientSettings.ServerVariable, "https://env.lab.org");
        Assert.Equal(("https://env.lab.org/", "art_env"), Pair(_settings.Resolve()));
        Assert.Equal(("https://explicit.lab.org/", "art_env"), Pair(_settings.Resolve("https://explicit.lab.org")));
    }

    [Fact]
    public void The_stored_token_is_never_sent_to_another_server()
    {
        _settings.Save(new Uri("https://stored.lab.org"), "art_stored");
        Assert.Equal(("https://elsewhere.example/", null), Pair(_settings.Resolve("https://elsewhere.example")));
        Environment.SetEnvironmentVariable(ClientSettings.ServerVariable, "https://elsewhere.example");
        Assert.Equal(("https://elsewhere.example/", null), Pair(_settings.Resolve()));
        Assert.Equal(("https://stored.lab.org/", "art_stored"), Pair(_settings.Resolve("https://STORED.lab.org/")));
    }

    [Theory]
    [InlineData("http://runner.lab.org", "InsecureServerUri")]
    [InlineData("ftp://runner.lab.org", "InvalidServerUri")]
    [InlineData("https://alice:pw@runner.lab.org", "InvalidServerUri")]
    [InlineData("runner.lab.org", "InvalidServerUri")]
    public void Server_addresses_that_would_leak_a_token_are_refused(string address, string errorId)
    {
        var error = Assert.Throws<AnalysisRunnerException>(() => ServerConnection.Parse(address));
        Assert.Equal((errorId, ErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.NotNull(ServerConnection.Parse("http://127.0.0.1:5080"));
        Assert.NotNull(ServerConnection.Parse("http://localhost:5080"));
    }

    [Fact]
    public void The_target_is_chosen_once_server_first_then_home()
    {
        var home = _folder.Combine("home");
        Assert.IsType<RunnerTarget.Embedded>(RunnerTarget.Choose(null, home, _settings));
        Assert.Equal(new RunnerHome(home).Root, ((RunnerTarget.Embedded)RunnerTarget.Choose(null, home, _settings)).Home.Root);

        _settings.Save(new Uri("https://stored.lab.org"), "art_stored");
        Assert.IsType<RunnerTarget.Remote>(RunnerTarget.Choose(null, null, _settings));
        Assert.IsType<RunnerTarget.Embedded>(RunnerTarget.Choose(null, home, _settings));
        Assert.Equal("https://other.lab.org/",
            ((RunnerTarget.Remote)RunnerTarget.Choose("https://other.lab.org", home, _settings)).Connection.Server.ToString());
    }

    [Fact]
    public void A_connection_never_prints_its_token()
    {
        var connection = new ServerConnection(new Uri("https://runner.lab.org"), "art_secret");
        Assert.DoesNotContain("art_secret", connection.ToString());
    }

    private static (string?, string?) Pair(ServerConnection? connection) => (connection?.Server.ToString(), connection?.Token);
}
