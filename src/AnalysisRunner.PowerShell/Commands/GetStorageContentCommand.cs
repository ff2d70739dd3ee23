using System.Management.Automation;
using System.Text;
using AnalysisRunner.Core.Storage;
using AnalysisRunner.PowerShell.Completers;

namespace AnalysisRunner.PowerShell.Commands;

/// <summary>Reads a bucket object, as gsutil cat: lines by default, -Raw one string, -AsByteStream the bytes.</summary>
[Cmdlet(VerbsCommon.Get, "StorageContent", DefaultParameterSetName = TextSet)]
[OutputType(typeof(string), ParameterSetName = [TextSet])]
[OutputType(typeof(byte[]), ParameterSetName = [BytesSet])]
public sealed class GetStorageContentCommand : StorageCmdlet
{
    private const string TextSet = "Text";
    private const string BytesSet = "Bytes";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BucketCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    /// <summary>The whole object as one string (or, with -AsByteStream, one byte array).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter(ParameterSetName = BytesSet, Mandatory = true)]
    public SwitchParameter AsByteStream { get; set; }

    [Parameter(ParameterSetName = TextSet)]
    [ValidateSet("utf8", "utf8BOM", "utf8NoBOM", "ascii", "unicode", "bigendianunicode", "utf32", "latin1", IgnoreCase = true)]
    public string Encoding { get; set; } = "utf8NoBOM";

    protected override void Process()
    {
        foreach (var path in Path)
        {
            var uri = ParsePath(path);
            using var stream = Run(Reader.OpenReadAsync(uri, PipelineStopped));
            if (AsByteStream)
            {
                if (Raw)
                {
                    using var all = new MemoryStream();
                    stream.CopyTo(all);
                    WriteObject(all.ToArray(), enumerateCollection: false);
                    continue;
                }
                // Blocks of bytes, never the whole object: pipe to a file, or use Copy-StorageItem for big ones.
                var buffer = new byte[1 << 16];
                int read;
                while ((read = stream.Read(buffer)) > 0) WriteObject(buffer[..read], enumerateCollection: false);
                continue;
            }
            using var reader = new StreamReader(stream, TextEncoding(), detectEncodingFromByteOrderMarks: true);
            if (Raw)
            {
                WriteObject(reader.ReadToEnd());
                continue;
            }
            while (reader.ReadLine() is { } line) WriteObject(line);
        }
    }

    private System.Text.Encoding TextEncoding() => Encoding.ToLowerInvariant() switch
    {
        "ascii" => System.Text.Encoding.ASCII,
        "unicode" => System.Text.Encoding.Unicode,
        "bigendianunicode" => System.Text.Encoding.BigEndianUnicode,
        "utf32" => System.Text.Encoding.UTF32,
        "latin1" => System.Text.Encoding.Latin1,
        _ => new UTF8Encoding(false),
    };
}
