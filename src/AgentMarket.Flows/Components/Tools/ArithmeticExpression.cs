using System.Globalization;

namespace AgentMarket.Flows.Components.Tools;

/// <summary>
/// A hand-written arithmetic parser: numbers, <c>+ - * / % **</c>, parentheses and unary signs, with Python's
/// precedence (<c>**</c> binds tighter than a unary minus and associates right; <c>%</c> takes the divisor's sign).
/// It never evaluates code: anything else is a syntax error. Length and nesting are bounded, so hostile input
/// cannot exhaust the stack or the CPU.
/// </summary>
internal sealed class ArithmeticExpression
{
    public const int MaxLength = 1000;
    public const int MaxDepth = 64;

    readonly string _text;
    int _position;
    int _depth;

    ArithmeticExpression(string text) => _text = text;

    /// <summary>Evaluates <paramref name="text"/>; throws <see cref="FormatException"/> or <see cref="DivideByZeroException"/>.</summary>
    public static double Evaluate(string text)
    {
        if (text.Length > MaxLength)
        {
            throw new FormatException($"the expression is longer than {MaxLength} characters");
        }

        var parser = new ArithmeticExpression(text);
        parser.SkipSpaces();
        if (parser.AtEnd)
        {
            throw new FormatException("the expression is empty");
        }

        var value = parser.Sum();
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw new FormatException($"unexpected '{text[parser._position]}' at position {parser._position + 1}");
        }

        if (!double.IsFinite(value))
        {
            throw new OverflowException("the result is too large");
        }

        return value;
    }

    /// <summary>Langflow's result format: six decimals with trailing zeros and point removed.</summary>
    public static string Format(double value)
    {
        var text = value.ToString("F6", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
        return text == "-0" ? "0" : text;
    }

    bool AtEnd => _position >= _text.Length;

    double Sum()
    {
        var value = Product();
        while (true)
        {
            SkipSpaces();
            if (Accept('+'))
            {
                value += Product();
            }
            else if (Accept('-'))
            {
                value -= Product();
            }
            else
            {
                return value;
            }
        }
    }

    double Product()
    {
        var value = Unary();
        while (true)
        {
            SkipSpaces();
            if (Accept('*'))
            {
                value *= Unary();
            }
            else if (Accept('/'))
            {
                var divisor = Unary();
                value = divisor == 0 ? throw new DivideByZeroException() : value / divisor;
            }
            else if (Accept('%'))
            {
                var divisor = Unary();
                value = divisor == 0 ? throw new DivideByZeroException() : value - (divisor * Math.Floor(value / divisor));
            }
            else
            {
                return value;
            }
        }
    }

    double Unary()
    {
        Enter();
        try
        {
            SkipSpaces();
            if (Accept('-'))
            {
                return -Unary();
            }

            return Accept('+') ? Unary() : Power();
        }
        finally
        {
            _depth--;
        }
    }

    double Power()
    {
        var value = Primary();
        SkipSpaces();
        if (!Peek("**"))
        {
            return value;
        }

        _position += 2;
        var exponent = Unary();
        if (value == 0 && exponent < 0)
        {
            throw new DivideByZeroException();
        }

        var result = Math.Pow(value, exponent);
        return double.IsNaN(result) ? throw new FormatException("a negative number cannot be raised to a fractional power") : result;
    }

    double Primary()
    {
        SkipSpaces();
        if (Accept('('))
        {
            Enter();
            try
            {
                var value = Sum();
                SkipSpaces();
                return Accept(')') ? value : throw new FormatException($"missing ')' at position {_position + 1}");
            }
            finally
            {
                _depth--;
            }
        }

        return Number();
    }

    double Number()
    {
        var start = _position;
        while (!AtEnd && char.IsAsciiDigit(_text[_position]))
        {
            _position++;
        }

        if (!AtEnd && _text[_position] == '.')
        {
            _position++;
            while (!AtEnd && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }
        }

        if (_position == start || (_position == start + 1 && _text[start] == '.'))
        {
            throw new FormatException(AtEnd ? "the expression ends too early" : $"unexpected '{_text[_position]}' at position {_position + 1}");
        }

        if (!AtEnd && _text[_position] is 'e' or 'E')
        {
            var mark = _position++;
            if (!AtEnd && _text[_position] is '+' or '-')
            {
                _position++;
            }

            var digits = _position;
            while (!AtEnd && char.IsAsciiDigit(_text[_position]))
            {
                _position++;
            }

            if (_position == digits)
            {
                _position = mark;
            }
        }

        return double.Parse(_text.AsSpan(start, _position - start), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw new FormatException($"the expression is nested deeper than {MaxDepth} levels");
        }
    }

    bool Accept(char expected)
    {
        if (!AtEnd && _text[_position] == expected && !(expected == '*' && Peek("**")))
        {
            _position++;
            return true;
        }

        return false;
    }

    bool Peek(string expected) => string.CompareOrdinal(_text, _position, expected, 0, expected.Length) == 0;

    void SkipSpaces()
    {
        while (!AtEnd && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }
}
