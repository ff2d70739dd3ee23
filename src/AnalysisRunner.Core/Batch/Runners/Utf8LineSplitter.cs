using System.Text;

namespace AnalysisRunner.Core.Batch.Runners;

/// <summary>
/// Turns output read in pieces into UTF-8 lines: a line (or a character) cut by the end of a piece
/// waits for the next one; "\r\n" ends a line as "\n" does. Each log reader (local lanes, Slurm's
/// output files) reads its bytes its own way and splits them here.
/// </summary>
internal sealed class Utf8LineSplitter
{
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _partial = new();
    private char[] _chars = [];

    /// <summary>The lines the first <paramref name="count"/> bytes complete.</summary>
    public List<string> Split(byte[] bytes, int count)
    {
        if (_chars.Length < count + 1) _chars = new char[count + 1];
        var chars = _decoder.GetChars(bytes, 0, count, _chars, 0, flush: false);
        var lines = new List<string>();
        var from = 0;
        for (var i = 0; i < chars; i++)
        {
            if (_chars[i] != '\n') continue;
            _partial.Append(_chars, from, i - from);
            lines.Add(Line());
            from = i + 1;
        }
        _partial.Append(_chars, from, chars - from);
        return lines;
    }

    /// <summary>The unfinished last line, once the output is known to be complete; null if there is none.</summary>
    public string? Rest() => _partial.Length > 0 ? Line() : null;

    private string Line()
    {
        if (_partial.Length > 0 && _partial[^1] == '\r') _partial.Length--;
        var line = _partial.ToString();
        _partial.Clear();
        return line;
    }
}
