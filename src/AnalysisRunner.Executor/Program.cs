using AnalysisRunner.Core.Batch.Execution;
using AnalysisRunner.Core.Hosting;

// AnalysisRunner.Executor --home <path>: started detached by ExecutorClient.Wake, never by a user.
// Diagnostics go to stdout, which the client points at <home>/executor.log.
string? homePath = null;
for (var i = 0; i < args.Length; i++)
    if (args[i] == "--home" && i + 1 < args.Length) homePath = args[++i];
if (homePath is null)
{
    Console.Error.WriteLine("usage: AnalysisRunner.Executor --home <runner home>");
    return 2;
}

Console.Out.Flush();
var log = TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
try
{
    var home = new RunnerHome(homePath);
    return await ExecutorHost.RunAsync(home, ExecutorOptions.FromEnvironment(), log);
}
catch (Exception e)
{
    log.WriteLine($"executor {Environment.ProcessId} failed: {e}");
    return 1;
}
