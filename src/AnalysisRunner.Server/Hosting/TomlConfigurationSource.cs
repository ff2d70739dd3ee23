using AnalysisRunner.Core.Config;
using Tomlyn.Model;

namespace AnalysisRunner.Server.Hosting;

/// <summary>
/// Reads the server's TOML settings file into ASP.NET Core configuration (tables become sections,
/// arrays indexed children), so the house's settings format also drives Kestrel's own sections.
/// The file is read with the same strict reader as settings.toml and the registry.
/// </summary>
public sealed class TomlConfigurationSource(string path) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(path);

    private sealed class Provider(string path) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            Flatten(TomlFiles.Read(path), null, data);
            Data = data;
        }

        private static void Flatten(object? value, string? key, IDictionary<string, string?> data)
        {
            switch (value)
            {
                case TomlTable table:
                    foreach (var (name, child) in table) Flatten(child, key is null ? name : key + ConfigurationPath.KeyDelimiter + name, data);
                    break;
                case TomlArray array:
                    for (var i = 0; i < array.Count; i++) Flatten(array[i], key + ConfigurationPath.KeyDelimiter + i, data);
                    break;
                case TomlTableArray tables:
                    for (var i = 0; i < tables.Count; i++) Flatten(tables[i], key + ConfigurationPath.KeyDelimiter + i, data);
                    break;
                case bool flag:
                    data[key!] = flag ? "true" : "false";
                    break;
                case IFormattable formattable:
                    data[key!] = formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    data[key!] = value?.ToString();
                    break;
            }
        }
    }
}
