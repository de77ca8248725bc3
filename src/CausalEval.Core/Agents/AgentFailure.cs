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
/// tokens (and so the cost) it had already spent. The runner gives each trial its own meter. Besides the answers' usage
/// (<see cref="Add"/>), it counts the tokens the server reported for attempts that failed — a filtered answer, a stream
/// cut off by a timeout or a cancellation — which are billed although no answer came of them (<see cref="AddUnanswered"/>).
/// </summary>
public sealed class UsageMeter
{
    private readonly object _gate = new();
    private Usage _total;
    private Usage _unanswered;

    public void Add(Usage usage)
    {
        lock (_gate)
        {
            _total += usage;
        }
    }

    public void AddUnanswered(Usage usage)
    {
        lock (_gate)
        {
            _total += usage;
            _unanswered += usage;
        }
    }

    /// <summary>Tokens of failed attempts (part of <see cref="Total"/>), which no step's usage shows.</summary>
    public Usage Unanswered
    {
        get
        {
            lock (_gate)
            {
                return _unanswered;
            }
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
