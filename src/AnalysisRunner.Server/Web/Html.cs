using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Net;

namespace AnalysisRunner.Server.Web;

/// <summary>
/// A piece of HTML. Built only from interpolated strings whose literal parts are markup and whose
/// holes are encoded (unless a hole is itself Html), so user-controlled text (descriptions,
/// commands, logs, attributes) cannot become markup by forgetting to encode it.
/// </summary>
public readonly struct Html
{
    private readonly string? _value;

    private Html(string value) => _value = value;

    public static Html Empty => new("");

    public static Html Of(ref HtmlBuilder builder) => new(builder.Finish());

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(part => part.ToString())));

    public override string ToString() => _value ?? "";
}

[InterpolatedStringHandler]
public ref struct HtmlBuilder
{
    private readonly StringBuilder _text;

    public HtmlBuilder(int literalLength, int formattedCount) => _text = new StringBuilder(literalLength + formattedCount * 16);

    public void AppendLiteral(string markup) => _text.Append(markup);

    public void AppendFormatted(Html html) => _text.Append(html.ToString());

    public void AppendFormatted(IEnumerable<Html> parts)
    {
        foreach (var part in parts) _text.Append(part.ToString());
    }

    // Overload resolution prefers this generic for a List<Html> or an Html?, so markup is recognised here too.
    public void AppendFormatted<T>(T value)
    {
        switch (value)
        {
            case Html html:
                _text.Append(html.ToString());
                break;
            case IEnumerable<Html> parts:
                AppendFormatted(parts);
                break;
            default:
                _text.Append(WebUtility.HtmlEncode(Text(value, null)));
                break;
        }
    }

    public void AppendFormatted<T>(T value, string format) => _text.Append(WebUtility.HtmlEncode(Text(value, format)));

    internal string Finish() => _text.ToString();

    private static string Text<T>(T value, string? format) => value switch
    {
        null => "",
        IFormattable formattable => formattable.ToString(format, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
