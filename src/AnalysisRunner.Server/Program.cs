using AnalysisRunner.Core;
using AnalysisRunner.Server.Admin;
using AnalysisRunner.Server.Hosting;

// `AnalysisRunner.Server token …` is the server-local admin command; anything else serves.
if (args.Length > 0 && args[0] == "token") return await TokenCommand.RunAsync(args[1..], Console.Out, Console.Error);

try
{
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
