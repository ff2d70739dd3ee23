using System.Text;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// Reads a job's log file from a byte offset, handing back whole UTF-8 characters only, so a page
/// showing bytes [0, n) and the live stream continuing at n never split a character between them.
/// </summary>
internal static class LogFiles
{
    /// <summary>What a page shows of a log at most; longer logs show their end.</summary>
    public const int PageBytes = 1 << 20;

    public static async Task<(string Text, long End, long Skipped)> ReadTailAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) return ("", 0, 0);
        await using var stream = Open(path);
        var length = stream.Length;
        var start = Math.Max(0, length - PageBytes);
        stream.Position = start;
        var buffer = new byte[length - start];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        var from = start == 0 ? 0 : SkipContinuationBytes(buffer, read);
        var whole = WholeCharacters(buffer, read);
        return (Encoding.UTF8.GetString(buffer, from, Math.Max(0, whole - from)), start + whole, start + from);
    }

    /// <summary>Up to <paramref name="buffer"/>'s length of whole characters after <paramref name="offset"/>; 0 bytes when there is nothing new.</summary>
    public static async Task<(string Text, int Bytes)> ReadFromAsync(string path, long offset, byte[] buffer, CancellationToken cancellationToken)
    {
        if (!File.Exists(path)) return ("", 0);
        await using var stream = Open(path);
        if (offset >= stream.Length) return ("", 0);
        stream.Position = offset;
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        var whole = WholeCharacters(buffer, read);
        // A character longer than what is left of the buffer cannot happen (4 bytes at most); a torn one waits for its rest.
        return (Encoding.UTF8.GetString(buffer, 0, whole), whole);
    }

    private static FileStream Open(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);

    /// <summary>The length of <paramref name="count"/> bytes without a last character that has not been written whole yet.</summary>
    internal static int WholeCharacters(byte[] buffer, int count)
    {
        for (var back = 1; back <= Math.Min(4, count); back++)
        {
            var b = buffer[count - back];
            if ((b & 0xC0) == 0x80) continue;   // a continuation byte: keep looking for its lead
            var needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? count - back : count;
        }
        return count;
    }

    private static int SkipContinuationBytes(byte[] buffer, int count)
    {
        var i = 0;
        while (i < count && i < 4 && (buffer[i] & 0xC0) == 0x80) i++;
        return i;
    }
}
