using System.Globalization;
using AnalysisRunner.Core;
using AnalysisRunner.Core.Postgres;
using AnalysisRunner.Core.Tokens;
using AnalysisRunner.Server.Authentication;
using AnalysisRunner.Server.Hosting;

namespace AnalysisRunner.Server.Admin;

/// <summary>
/// The server-local admin command, for whoever can read the server's settings (and so reach its
/// database): that access already is full authority, so it needs no token. It makes the first admin
/// token; from then on admins can also use New-/Get-/Revoke-AnalysisRunnerToken against the server.
/// <code>
/// AnalysisRunner.Server token issue --user alice@lab.org [--admin] [--expires-in 30d | --expires 2027-01-31] [--description TEXT]
/// AnalysisRunner.Server token list [--user alice@lab.org] [--all]
/// AnalysisRunner.Server token revoke (--id ID | --user alice@lab.org)
/// </code>
/// Each also takes --settings FILE (else AR_SERVER_SETTINGS), like the server.
/// </summary>
public static class TokenCommand
{
    /// <summary>ServerSchema's "sealed api tokens".</summary>
    private const int SealedTokensVersion = 6;

    public const string Usage = """
        usage: AnalysisRunner.Server token issue --user EMAIL [--admin] [--expires-in 30d|12h|90m | --expires DATE] [--description TEXT] [--settings FILE]
               AnalysisRunner.Server token list [--user EMAIL] [--all] [--settings FILE]
               AnalysisRunner.Server token revoke (--id ID | --user EMAIL) [--settings FILE]
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors, TimeProvider? clock = null)
    {
        clock ??= TimeProvider.System;
        try
        {
            if (args.Length == 0) throw Bad("say what to do: issue, list or revoke");
            var options = Options.Parse(args[1..]);
            var settingsFile = options.Value("settings") ?? ServerSettings.FindSettingsFile([]);
            var configuration = new ConfigurationManager();
            ServerSettings.AddSources(configuration, settingsFile, []);
            var settings = ServerSettings.From(configuration, settingsFile);
            await using var database = new PostgresDatabase(settings.ConnectionString ?? "");
            // The first admin token is usually made before the server ever started: bring the schema up first.
            var applied = await new SchemaMigrator(database).ApplyAsync(ServerSchema.Migrations);
            var store = ServerTokenStore.Open(settings, database, clock);
            if (settings.RunnerHome is null) await errors.WriteLineAsync(TokenRowSeal.UnkeyedWarning);
            // A database that had tokens before they were sealed: those stop working now; say so once.
            else if (applied.Contains(SealedTokensVersion) && !applied.Contains(1))
                await errors.WriteLineAsync(
                    "Tokens are sealed from now on: those issued before no longer work (token list --all shows them as Unsealed); issue them again.");
            switch (args[0])
            {
                case "issue":
                    options.Allow("user", "admin", "expires-in", "expires", "description", "settings");
                    var issued = await store.IssueAsync(new TokenRequest
                    {
                        User = options.Value("user") ?? throw Bad("--user EMAIL is required"),
                        Admin = options.Flag("admin"),
                        ExpiresAt = Expiry(options, clock),
                        Description = options.Value("description"),
                        CreatedBy = "server-local admin (" + Environment.UserName + ")",
                    });
                    await output.WriteLineAsync($"id      {issued.Id}\nuser    {issued.User}{(issued.Admin ? " (admin)" : "")}\n" +
                                                $"expires {(issued.ExpiresAt is { } e ? e.ToString("u") : "never")}\n" +
                                                $"token   {issued.Token}\nThis token is shown once; only its hash is stored.");
                    return 0;
                case "list":
                    options.Allow("user", "all", "settings");
                    var tokens = await store.ListAsync(new TokenQuery { User = options.Value("user"), IncludeInactive = options.Flag("all") });
                    foreach (var token in tokens)
                        await output.WriteLineAsync(string.Join('\t', token.Id, token.User, token.Admin ? "admin" : "-", token.State,
                            token.ExpiresAt?.ToString("u") ?? "never", token.LastUsedAt?.ToString("u") ?? "never used", token.Description ?? ""));
                    return 0;
                case "revoke":
                    options.Allow("id", "user", "settings");
                    var revoked = options.Value("id") is { } id ? [await store.RevokeAsync(id)]
                        : options.Value("user") is { } user ? await store.RevokeUserAsync(user)
                        : throw Bad("--id ID or --user EMAIL is required");
                    foreach (var token in revoked) await output.WriteLineAsync($"revoked {token.Id} ({token.User})");
                    return 0;
                default:
                    throw Bad($"unknown action '{args[0]}'");
            }
        }
        catch (AnalysisRunnerException error)
        {
            var where = error.Data["database"] is string database ? $" [{database}]" : "";
            await errors.WriteLineAsync($"{error.Message}{where} ({error.ErrorId})");
            if (error.ErrorId == "InvalidCommandLine") await errors.WriteLineAsync(Usage);
            return 2;
        }
    }

    private static DateTimeOffset? Expiry(Options options, TimeProvider clock)
    {
        if (options.Value("expires-in") is { } duration)
        {
            if (options.Value("expires") is not null) throw Bad("give --expires-in or --expires, not both");
            return clock.GetUtcNow() + ParseDuration(duration);
        }
        if (options.Value("expires") is not { } date) return null;
        return DateTimeOffset.TryParse(date, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : throw Bad($"--expires '{date}' is not a date (2027-01-31 or 2027-01-31T12:00:00Z)");
    }

    /// <summary>30d, 12h, 90m, 45s, or a TimeSpan (1.12:00:00).</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        var unit = text.Length > 1 ? text[^1] : ' ';
        if ("dhms".Contains(unit) && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0)
            return unit switch
            {
                'd' => TimeSpan.FromDays(amount), 'h' => TimeSpan.FromHours(amount), 'm' => TimeSpan.FromMinutes(amount), _ => TimeSpan.FromSeconds(amount),
            };
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
            ? span
            : throw Bad($"--expires-in '{text}' is not a duration (30d, 12h, 90m)");
    }

    private static AnalysisRunnerException Bad(string what) =>
        new("InvalidCommandLine", ErrorKind.InvalidArgument, null, "AnalysisRunner.Server token: " + what + ".");

    private sealed class Options
    {
        private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

        public static Options Parse(string[] args)
        {
            var options = new Options();
            for (var i = 0; i < args.Count(); i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw Bad($"unexpected '{args[i]}'");
                var name = args[i][2..];
                var isFlag = name is "admin" or "all";
                options._values[name] = isFlag ? "true" : i + 1 < args.Length ? args[++i] : throw Bad($"--{name} needs a value");
            }
            return options;
        }

        public string? Value(string name) => _values.GetValueOrDefault(name);

        public bool Flag(string name) => _values.ContainsKey(name);

        public void Allow(params string[] names)
        {
            foreach (var name in _values.Keys)
                if (!names.Contains(name)) throw Bad($"--{name} does not apply here");
        }
    }
}
