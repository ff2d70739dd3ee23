using AnalysisRunner.Core.Storage;
using AnalysisRunner.GcsTestServer;

namespace AnalysisRunner.Core.Tests.Storage;

/// <summary>One GCS test server (tests/AnalysisRunner.GcsTestServer) for every GCS test class, in this process.</summary>
public sealed class GcsServerFixture : IAsyncLifetime
{
    private GcsServer? _server;

    public string Endpoint => (_server ?? throw new InvalidOperationException("The GCS test server has not started.")).Endpoint;

    public GcsStore NewStore() => new(new GcsStoreOptions { Endpoint = Endpoint, Unauthenticated = true });

    public async Task InitializeAsync() => _server = await GcsServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class GcsServerCollection : ICollectionFixture<GcsServerFixture>
{
    public const string Name = "GCS test server";
}
