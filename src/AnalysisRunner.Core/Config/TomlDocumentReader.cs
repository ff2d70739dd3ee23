using Tomlyn.Model;
using Tomlyn.Syntax;

namespace AnalysisRunner.Core.Config;

/// <summary>
/// Turns a parsed TOML document (Tomlyn's syntax tree) into tables, refusing what the TOML spec
/// forbids: a key defined twice, a table defined twice, a table defined by dotted keys and again
/// by a header (or the other way round), an inline table or a static array extended later.
/// Doing this on the tree Tomlyn's parser already built replaces two further passes over the text
/// (Tomlyn's validator and its deserializer), which were two thirds of what a config merge cost.
/// </summary>
internal sealed class TomlDocumentReader
{
    /// <summary>How a table came to exist, which decides what may still add to it.</summary>
    private enum Origin
    {
        /// <summary>Made as the parent of a header, e.g. 'a' for [a.b]; a later [a] may still define it.</summary>
        Implicit,
        /// <summary>Defined by its own [header], or an element of an array of tables.</summary>
        Header,
        /// <summary>Made by dotted keys (a.b = 1 makes 'a'); only more dotted keys in the same table add to it.</summary>
        DottedKeys,
        /// <summary>An inline table { ... }: complete as written.</summary>
        Inline,
    }

    private readonly Dictionary<TomlTable, Origin> _origins = new(ReferenceEqualityComparer.Instance);
    private readonly string _sourceName;

    private TomlDocumentReader(string sourceName) => _sourceName = sourceName;

    public static TomlTable Read(DocumentSyntax document, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new TomlDocumentReader(sourceName).ReadDocument(document);
    }

    private TomlTable ReadDocument(DocumentSyntax document)
    {
        var root = NewTable(Origin.Header);
        foreach (var keyValue in document.KeyValues) AddKeyValue(root, keyValue);
        foreach (var header in document.Tables)
        {
            var table = header is TableArraySyntax ? OpenTableArrayElement(root, header) : OpenTable(root, header);
            foreach (var item in header.Items) AddKeyValue(table, item);
        }
        return root;
    }

    private TomlTable NewTable(Origin origin)
    {
        var table = new TomlTable(inline: origin == Origin.Inline);
        _origins[table] = origin;
        return table;
    }

    /// <summary>[a.b.c]: walks to a.b (making missing tables implicitly) and defines c.</summary>
    private TomlTable OpenTable(TomlTable root, TableSyntaxBase header)
    {
        var keys = KeyParts(header.Name);
        var parent = WalkToParent(root, keys, header);
        var name = keys[^1];
        if (!parent.TryGetValue(name, out var existing))
        {
            var table = NewTable(Origin.Header);
            parent[name] = table;
            return table;
        }
        if (existing is TomlTable defined && _origins[defined] == Origin.Implicit)
        {
            _origins[defined] = Origin.Header;
            return defined;
        }
        throw Invalid(header, existing is TomlTable earlier && _origins[earlier] == Origin.Header
            ? $"the table [{Dotted(keys)}] is defined twice"
            : $"the table [{Dotted(keys)}] is already defined {Described(existing)}");
    }

    /// <summary>[[a.b.c]]: walks to a.b and appends a new table to the array c.</summary>
    private TomlTable OpenTableArrayElement(TomlTable root, TableSyntaxBase header)
    {
        var keys = KeyParts(header.Name);
        var parent = WalkToParent(root, keys, header);
        var name = keys[^1];
        TomlTableArray array;
        if (!parent.TryGetValue(name, out var existing))
        {
            array = [];
            parent[name] = array;
        }
        else if (existing is TomlTableArray tables)   // only [[headers]] make these; static arrays are TomlArray
        {
            array = tables;
        }
        else
        {
            throw Invalid(header, $"[[{Dotted(keys)}]] adds to an array of tables, but '{Dotted(keys)}' is already defined {Described(existing)}");
        }
        var element = NewTable(Origin.Header);
        array.Add(element);
        return element;
    }

    /// <summary>The table a header's last key goes into, making missing tables on the way.</summary>
    private TomlTable WalkToParent(TomlTable root, List<string> keys, SyntaxNode at)
    {
        var current = root;
        for (var i = 0; i < keys.Count - 1; i++)
        {
            if (!current.TryGetValue(keys[i], out var next))
            {
                var made = NewTable(Origin.Implicit);
                current[keys[i]] = made;
                current = made;
            }
            else if (next is TomlTable table && _origins[table] != Origin.Inline)
            {
                current = table;
            }
            else if (next is TomlTableArray array && array.Count > 0)
            {
                current = array[array.Count - 1];
            }
            else
            {
                throw Invalid(at, $"'{Dotted(keys[..(i + 1)])}' is already defined {Described(next)}, so it cannot hold '{Dotted(keys)}'");
            }
        }
        return current;
    }

    /// <summary>key = value, or a.b.c = value (a and a.b made or extended as dotted-key tables).</summary>
    private void AddKeyValue(TomlTable table, KeyValueSyntax keyValue)
    {
        if (keyValue.Key is { DotKeys.ChildrenCount: 0 } plain)
        {
            // Most keys are plain: no list of parts to build.
            var key = KeyPart(plain.Key);
            if (table.ContainsKey(key)) throw Invalid(keyValue, $"the key '{key}' is defined twice");
            table[key] = Value(keyValue.Value);
            return;
        }
        var keys = KeyParts(keyValue.Key);
        var current = table;
        for (var i = 0; i < keys.Count - 1; i++)
        {
            if (!current.TryGetValue(keys[i], out var next))
            {
                // Inside an inline table the tables dotted keys make are inline too, and as complete.
                var made = new TomlTable(inline: current.Kind == ObjectKind.InlineTable);
                _origins[made] = Origin.DottedKeys;
                current[keys[i]] = made;
                current = made;
            }
            else if (next is TomlTable open && _origins[open] is Origin.DottedKeys or Origin.Implicit)
            {
                // A table only made on the way to a header is not defined yet: dotted keys may define it,
                // and then no header may define it again (TOML 1.0; toml-lang/toml#859).
                _origins[open] = Origin.DottedKeys;
                current = open;
            }
            else
            {
                throw Invalid(keyValue, $"the key '{Dotted(keys)}' extends '{Dotted(keys[..(i + 1)])}', which is already defined {Described(next)}");
            }
        }
        var name = keys[^1];
        if (current.ContainsKey(name))
            throw Invalid(keyValue, $"the key '{Dotted(keys)}' is defined twice");
        current[name] = Value(keyValue.Value);
    }

    private object Value(ValueSyntax? value) => value switch
    {
        StringValueSyntax text => text.Value!,
        IntegerValueSyntax integer => integer.Value,
        FloatValueSyntax number => number.Value,
        BooleanValueSyntax boolean => boolean.Value,
        DateTimeValueSyntax dateTime => dateTime.Value,
        ArraySyntax array => Array(array),
        InlineTableSyntax inline => InlineTable(inline),
        _ => throw Invalid(value, "a value is missing or of a kind this reader does not know"),
    };

    private TomlArray Array(ArraySyntax syntax)
    {
        var array = new TomlArray();
        foreach (var item in syntax.Items) array.Add(Value(item.Value));
        return array;
    }

    private TomlTable InlineTable(InlineTableSyntax syntax)
    {
        var table = NewTable(Origin.Inline);
        foreach (var item in syntax.Items) AddKeyValue(table, item.KeyValue!);
        return table;
    }

    private static List<string> KeyParts(KeySyntax? key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = new List<string>(1 + key.DotKeys.ChildrenCount) { KeyPart(key.Key) };
        foreach (var dotted in key.DotKeys) parts.Add(KeyPart(dotted.Key));
        return parts;
    }

    private static string KeyPart(BareKeyOrStringValueSyntax? key) => key switch
    {
        BareKeySyntax bare => bare.Key!.Text!,
        StringValueSyntax quoted => quoted.Value!,
        _ => throw new ArgumentException("A TOML key is neither bare nor quoted.", nameof(key)),
    };

    private static string Dotted(IEnumerable<string> keys) => string.Join('.', keys);

    private string Described(object? existing) => existing switch
    {
        TomlTable table => _origins[table] switch
        {
            Origin.Inline => "as an inline table",
            Origin.DottedKeys => "by dotted keys",
            _ => "as a table",
        },
        TomlTableArray => "as an array of tables",
        TomlArray => "as an array",
        _ => "as a value",
    };

    private ConfigException Invalid(SyntaxNode? at, string what)
    {
        // Tomlyn's positions count lines from 0.
        var line = at is null ? 0 : at.Span.Start.Line + 1;
        var where = line > 0 ? $"{_sourceName}, line {line}" : _sourceName;
        return new ConfigException("InvalidToml", ErrorKind.InvalidData, _sourceName,
            $"{where} is not valid TOML: {what}. Fix the file so it parses as TOML (https://toml.io).");
    }
}
