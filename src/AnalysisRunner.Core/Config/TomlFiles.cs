using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// The one place TOML text becomes a table and back. Parsing is strict (duplicate keys and
/// redefined tables are errors, as the TOML spec says) so a config never means something
/// different from what its author reads.
/// </summary>
public static class TomlFiles
{
    public static TomlTable Parse(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            // Tomlyn's parser checks the syntax; what the spec says about keys and tables defined
            // twice is checked while the tree becomes tables (Tomlyn's deserializer lets a later
            // duplicate win).
            var document = SyntaxParser.ParseStrict(text, TomlSerializerOptions.Default, sourceName, validate: false);
            return TomlDocumentReader.Read(document, sourceName);
        }
        catch (TomlException ex)
        {
            throw InvalidToml(sourceName, ex);
        }
    }

    public static TomlTable Read(string path) =>
        Parse(ReadText(path, "ConfigNotFound", $"The config file '{path}' does not exist; give the path of an existing TOML file."), path);

    /// <summary>A file's text, or a ConfigException (ObjectNotFound) with the given id and message when it is missing.</summary>
    internal static string ReadText(string path, string notFoundErrorId, string notFoundMessage)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException(notFoundErrorId, ErrorKind.ObjectNotFound, path, notFoundMessage, ex);
        }
    }

    public static string Serialize(TomlTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return TomlSerializer.Serialize(table);
    }

    internal static ConfigException InvalidToml(string sourceName, TomlException ex)
    {
        var where = ex.Line > 0 ? $"{sourceName}, line {ex.Line}" : sourceName;
        var firstDiagnostic = ex.Message.Split('\n', 2)[0].Trim();
        return new ConfigException("InvalidToml", ErrorKind.InvalidData, sourceName,
            $"{where} is not valid TOML: {firstDiagnostic}. Fix the file so it parses as TOML (https://toml.io).", ex);
    }
}
