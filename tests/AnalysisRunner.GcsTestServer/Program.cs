using AnalysisRunner.GcsTestServer;

// Prints the endpoint on its first line of output, then serves until its standard input closes: a
// test that starts it holds that pipe, so the server ends with the test even if the test is killed.
var port = args.Length == 2 && args[0] == "--port" ? int.Parse(args[1]) : 0;
await using var server = await GcsServer.StartAsync(port);
Console.WriteLine($"GCS test server listening on {server.Endpoint}");
Console.Out.Flush();
await Console.In.ReadToEndAsync();
