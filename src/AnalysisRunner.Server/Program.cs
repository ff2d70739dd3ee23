using AnalysisRunner.Core;
using AnalysisRunner.Server.Admin;
using AnalysisRunner.Server.Hosting;

// `AnalysisRunner.Server token …` is the server-local admin command; anything else serves.
if (args.Length > 0 && args[0] == "token") return await TokenCommand.RunAsync(args[1..], Console.Out, Console.Error);

try
{
    // `AnalysisRunner.Server embedded …`: the pages over a runner home for its OS user alone (EmbeddedWeb).
    if (args.Length > 0 && args[0] == "embedded")
    {
        await using var embedded = EmbeddedWeb.Build(args[1..], Console.Out);
        await EmbeddedWeb.StartAsync(embedded);
        await embedded.WaitForShutdownAsync();
        return 0;
    }
    await using var app = ServerHost.Build(args);
    await ServerHost.StartAsync(app);
    foreach (var address in ServerHost.Addresses(app)) Console.WriteLine($"AnalysisRunner.Server listening on {address}");
    await app.WaitForShutdownAsync();
    return 0;
}
catch (AnalysisRunnerException error)
{
    var where = error.Data["database"] is string database ? $" [{database}]" : "";
    await Console.Error.WriteLineAsync($"AnalysisRunner.Server cannot start: {error.Message}{where} ({error.ErrorId})");
    return 1;
}
