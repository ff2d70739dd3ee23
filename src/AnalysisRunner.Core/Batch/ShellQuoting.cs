namespace AnalysisRunner.Core.Batch;

/// <summary>
/// Turns any string into one bash word that means exactly that string. Everything that reaches a
/// shell from a user (arguments, names, paths) goes through here, so "O'Brien; rm -rf ~" is text, never code.
/// </summary>
public static class ShellQuoting
{
    private static readonly System.Buffers.SearchValues<char> Safe =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./=:,+@%");

    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && !value.AsSpan().ContainsAnyExcept(Safe) && value[0] != '-' && value[0] != '=')
            return value;
        return "'" + value.Replace("'", "'\\''") + "'";
    }

    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));
}
