using System.Buffers.Binary;
using System.Text.Json;
using AnalysisRunner.Core.Http;

namespace AnalysisRunner.Core.Runs.Channel;

/// <summary>
/// The run channel's wire: each message is a 4-byte big-endian length, then that many bytes of UTF-8
/// JSON. A length over the reader's limit is refused before anything is read or allocated, so a
/// hostile job cannot make the executor hold more than <see cref="MaxRequestBytes"/> per connection.
/// </summary>
internal static class RunChannelFrames
{
    /// <summary>What a job may send in one request: a batch of a few thousand jobs fits comfortably.</summary>
    public const int MaxRequestBytes = 8 << 20;

    /// <summary>What a client accepts in one answer (a log arrives in several).</summary>
    public const int MaxAnswerBytes = 64 << 20;

    public const string TooLargeErrorId = "RunChannelMessageTooLarge";
    public const string InvalidErrorId = "RunChannelMessageInvalid";

    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message, ApiJson.Options);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next message, or null when the other end closed before starting one.</summary>
    public static async Task<T?> ReadAsync<T>(Stream stream, int maxBytes, CancellationToken cancellationToken) where T : class
    {
        var header = new byte[4];
        var got = await ReadFully(stream, header, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null;
        if (got < 4) throw Invalid("the connection closed inside a message's length");
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length < 0 || length > maxBytes)
            throw new AnalysisRunnerException(TooLargeErrorId, ErrorKind.LimitsExceeded, length,
                $"A run channel message of {length} bytes is refused; the limit is {maxBytes} bytes.");
        var body = new byte[length];
        if (await ReadFully(stream, body, cancellationToken).ConfigureAwait(false) < length)
            throw Invalid($"the connection closed after part of a {length}-byte message");
        try
        {
            return JsonSerializer.Deserialize<T>(body, ApiJson.Options) ?? throw Invalid("the message is JSON null");
        }
        catch (JsonException e)
        {
            throw Invalid($"the message is not the JSON expected ({e.Message})");
        }
    }

    private static async Task<int> ReadFully(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    public static AnalysisRunnerException Invalid(string why) =>
        new(InvalidErrorId, ErrorKind.InvalidData, null, $"The run channel refused a message: {why}.");
}
