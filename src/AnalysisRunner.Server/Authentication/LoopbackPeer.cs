using System.Globalization;
using System.Net;

namespace AnalysisRunner.Server.Authentication;

/// <summary>
/// Which OS account opened a loopback TCP connection, read from /proc/net/tcp and tcp6 (the row whose
/// local end is the client's and remote end is ours carries the client socket's uid). The embedded web
/// serves only connections of its own account: cookies are per host, not per port, so another account's
/// listener on 127.0.0.1 could be sent the session cookie and replay it; from its own uid it gets nowhere.
/// </summary>
internal static class LoopbackPeer
{
    private static readonly string[] Tables = ["/proc/net/tcp", "/proc/net/tcp6"];

    /// <summary>True when the client end of the connection belongs to this process's effective uid.</summary>
    public static bool IsThisUser(EndPoint? client, EndPoint? server) =>
        client is IPEndPoint from && server is IPEndPoint to && OwnerOf(from, to) is { } uid && uid == EffectiveUid();

    public static int? OwnerOf(IPEndPoint client, IPEndPoint server)
    {
        foreach (var table in Tables)
            if (File.Exists(table) && Find(File.ReadLines(table), client, server) is { } uid) return uid;
        return null;
    }

    /// <summary>The uid of the row for the socket whose local end is <paramref name="client"/> and remote end <paramref name="server"/>.</summary>
    public static int? Find(IEnumerable<string> rows, IPEndPoint client, IPEndPoint server)
    {
        var locals = Encodings(client);
        var remotes = Encodings(server);
        foreach (var row in rows.Skip(1))
        {
            var fields = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 8) continue;
            if (locals.Contains(fields[1], StringComparer.OrdinalIgnoreCase) && remotes.Contains(fields[2], StringComparer.OrdinalIgnoreCase)
                && int.TryParse(fields[7], NumberStyles.None, CultureInfo.InvariantCulture, out var uid))
                return uid;
        }
        return null;
    }

    /// <summary>An endpoint as the kernel writes it: each 32-bit word of the address in host order, then the port, in hex.</summary>
    public static IReadOnlyList<string> Encodings(IPEndPoint endPoint)
    {
        var port = endPoint.Port.ToString("X4", CultureInfo.InvariantCulture);
        var address = endPoint.Address;
        var forms = new List<IPAddress> { address };
        if (address.IsIPv4MappedToIPv6) forms.Add(address.MapToIPv4());
        else if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) forms.Add(address.MapToIPv6());
        return forms.Select(form =>
        {
            var bytes = form.GetAddressBytes();
            var words = Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToUInt32(bytes, i * 4).ToString("X8", CultureInfo.InvariantCulture));
            return string.Concat(words) + ":" + port;
        }).ToList();
    }

    private static int? _effectiveUid;

    /// <summary>This process's effective uid, from /proc/self/status ("Uid: real effective saved fs").</summary>
    public static int EffectiveUid() => _effectiveUid ??= int.Parse(
        File.ReadLines("/proc/self/status").First(line => line.StartsWith("Uid:", StringComparison.Ordinal))
            .Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
}
