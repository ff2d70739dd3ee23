using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace AnalysisRunner.Core.Batch.Building;

/// <summary>A string dictionary that asks its owner before every change, so a submitted batch cannot be edited through it.</summary>
internal sealed class GuardedDictionary(Action beforeChange) : IDictionary<string, string>
{
    private readonly Dictionary<string, string> _items = new(StringComparer.Ordinal);

    public string this[string key]
    {
        get => _items[key];
        set
        {
            beforeChange();
            _items[key] = value ?? throw new ArgumentNullException(nameof(value));
        }
    }

    public ICollection<string> Keys => _items.Keys;
    public ICollection<string> Values => _items.Values;
    public int Count => _items.Count;
    public bool IsReadOnly => false;

    public void Add(string key, string value)
    {
        beforeChange();
        ArgumentNullException.ThrowIfNull(value);
        _items.Add(key, value);
    }

    public void Add(KeyValuePair<string, string> item) => Add(item.Key, item.Value);

    public void Clear()
    {
        beforeChange();
        _items.Clear();
    }

    public bool Remove(string key)
    {
        beforeChange();
        return _items.Remove(key);
    }

    public bool Remove(KeyValuePair<string, string> item)
    {
        beforeChange();
        return ((ICollection<KeyValuePair<string, string>>)_items).Remove(item);
    }

    public bool Contains(KeyValuePair<string, string> item) => ((ICollection<KeyValuePair<string, string>>)_items).Contains(item);
    public bool ContainsKey(string key) => _items.ContainsKey(key);
    public void CopyTo(KeyValuePair<string, string>[] array, int arrayIndex) => ((ICollection<KeyValuePair<string, string>>)_items).CopyTo(array, arrayIndex);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _items.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public IReadOnlyDictionary<string, string> Snapshot() => new Dictionary<string, string>(_items, StringComparer.Ordinal);
}
