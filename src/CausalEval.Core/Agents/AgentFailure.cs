using CausalEval.Core.Episodes;

namespace CausalEval.Core.Agents;

/// <summary>
/// An agent failed in a way it could classify (a model call refused, rate-limited past its retries, timed out…). The trial
/// ends with the error <c>{kind, message}</c>, where <see cref="Kind"/> is a short word such as <c>auth</c>,
/// <c>bad_request</c>, <c>content_filter</c>, <c>rate_limited</c>, <c>timeout</c>, <c>server_error</c> or <c>network</c>.
/// Any other exception is recorded with its type name as the kind.
/// </summary>
public class AgentFailureException(string kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Kind { get; } = kind;
}

/// <summary>
/// Adds up the usage of one trial's model calls as they happen, so that a trial that fails part-way still reports the
/// tokens (and so the cost) it had already spent. The runner gives each trial its own meter.
/// </summary>
public sealed class UsageMeter
{
    private readonly object _gate = new();
    private Usage _total;

    public void Add(Usage usage)
    {
        lock (_gate)
        {
            _total += usage;
        }
    }

    public Usage Total
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }
}
