namespace CausalEval.Core;

/// <summary>
/// The user's input is wrong (a file, a field, a command-line option). The CLI reports it and exits 2.
/// </summary>
public sealed class InputException(string source, string field, string problem)
    : Exception($"{source}: {field}: {problem}")
{
    /// <summary>File (with line where known) or option that holds the bad input.</summary>
    public string Origin { get; } = source;

    /// <summary>The field or JSON path inside it.</summary>
    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
