namespace CausalEval.Core.Worlds;

/// <summary>Finding a variable's name in a list of names.</summary>
internal static class VariableNames
{
    /// <summary>
    /// Position of <paramref name="name"/> in <paramref name="names"/> (ordinal), or −1. Names usually arrive as the very
    /// strings of the episode's lists (the episode's, the brief's and the built-in agents' do), so the instance is looked
    /// for first: names of one length would otherwise be compared character by character at every position before it.
    /// </summary>
    public static int IndexOf(ReadOnlySpan<string> names, string name)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (ReferenceEquals(names[i], name))
            {
                return i;
            }
        }
        for (var i = 0; i < names.Length; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        return -1;
    }
}
