package io.k3j.api;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Kubernetes resource quantity ({@code 100m}, {@code 1Gi}, {@code 1e3}), with the canonical form that
 * kube-apiserver writes back ({@code 0.5} becomes {@code 500m}, {@code 1024Mi} becomes {@code 1Gi}).
 * Values finer than 10^-9 are rounded up to the nano scale when parsed, as apimachinery does.
 */
public final class Quantity implements Comparable<Quantity> {

    /** The suffix family a quantity was written in; it decides the canonical form. */
    public enum Format { DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT }

    /** The message apimachinery gives for text that is not a quantity. */
    public static final String FORMAT_ERROR =
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    private static final Pattern SHAPE = Pattern.compile("^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$");
    private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    private static final BigInteger K1024 = BigInteger.valueOf(1024);

    private final BigDecimal value;
    private final Format format;

    private Quantity(BigDecimal value, Format format) {
        this.value = value;
        this.format = format;
    }

    /**
     * Parses a quantity.
     *
     * @throws IllegalArgumentException with {@link #FORMAT_ERROR} (or the apimachinery message for an
     *     unknown suffix) when {@code text} is not a quantity
     */
    public static Quantity parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.isEmpty()) throw new IllegalArgumentException("quantities must be non-empty");
        Matcher m = SHAPE.matcher(text);
        if (!m.matches()) throw new IllegalArgumentException(FORMAT_ERROR);
        String number = m.group(1);
        String suffix = m.group(2);
        // "1.2.3" and "." pass the shape but are not numbers.
        if (number.chars().filter(c -> c == '.').count() > 1 || number.replace("+", "").replace("-", "").equals(".")) {
            throw new IllegalArgumentException(FORMAT_ERROR);
        }
        BigDecimal base;
        try {
            base = new BigDecimal(number.startsWith("+") ? number.substring(1) : number);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(FORMAT_ERROR);
        }
        Format format;
        BigDecimal multiplied;
        switch (suffix) {
            case "" -> { format = Format.DECIMAL_SI; multiplied = base; }
            case "n" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(-9); }
            case "u" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(-6); }
            case "m" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(-3); }
            case "k" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(3); }
            case "M" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(6); }
            case "G" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(9); }
            case "T" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(12); }
            case "P" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(15); }
            case "E" -> { format = Format.DECIMAL_SI; multiplied = base.scaleByPowerOfTen(18); }
            default -> {
                int power = binaryPower(suffix);
                if (power > 0) {
                    format = Format.BINARY_SI;
                    multiplied = base.multiply(new BigDecimal(K1024.pow(power)));
                } else if ((suffix.charAt(0) == 'e' || suffix.charAt(0) == 'E') && suffix.length() > 1) {
                    int exp;
                    try {
                        exp = Integer.parseInt(suffix.substring(1));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("unable to parse quantity's suffix");
                    }
                    format = Format.DECIMAL_EXPONENT;
                    multiplied = base.scaleByPowerOfTen(exp);
                } else {
                    throw new IllegalArgumentException("unable to parse quantity's suffix");
                }
            }
        }
        if (multiplied.scale() > 9) multiplied = multiplied.setScale(9, RoundingMode.UP);
        return new Quantity(multiplied, format);
    }

    /** True when {@code text} parses. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static int binaryPower(String suffix) {
        for (int i = 1; i < BINARY.length; i++) if (BINARY[i].equals(suffix)) return i;
        return -1;
    }

    public static Quantity ofDecimal(BigDecimal value) {
        return new Quantity(value, Format.DECIMAL_SI);
    }

    public BigDecimal value() {
        return value;
    }

    public Format format() {
        return format;
    }

    public int signum() {
        return value.signum();
    }

    /** Rounds away from zero to {@code 10^-digits}: {@code roundUp(3)} keeps milli precision, as resource lists do. */
    public Quantity roundUp(int digits) {
        if (value.scale() <= digits) return this;
        return new Quantity(value.setScale(digits, RoundingMode.UP), format);
    }

    /** The canonical text kube-apiserver serializes: {@code 500m}, {@code 1Gi}, {@code 1536Mi}, {@code 1e3}. */
    @Override
    public String toString() {
        if (value.signum() == 0) return "0";
        Format f = format;
        if (f == Format.BINARY_SI) {
            // Small or fractional binary values print in decimal, so nothing is rounded.
            boolean small = value.abs().compareTo(BigDecimal.valueOf(1024)) < 0;
            boolean fractional = value.stripTrailingZeros().scale() > 0;
            if (small || fractional) f = Format.DECIMAL_SI;
        }
        if (f == Format.BINARY_SI) {
            BigInteger n = value.toBigIntegerExact();
            int power = 0;
            while (power < BINARY.length - 1 && n.mod(K1024).signum() == 0) {
                n = n.divide(K1024);
                power++;
            }
            return n + BINARY[power];
        }
        BigDecimal stripped = value.stripTrailingZeros();
        int exponent = -stripped.scale();
        BigInteger mantissa = stripped.unscaledValue();
        int e3 = Math.floorDiv(exponent, 3) * 3;
        mantissa = mantissa.multiply(BigInteger.TEN.pow(exponent - e3));
        if (f == Format.DECIMAL_EXPONENT) {
            return e3 == 0 ? mantissa.toString() : mantissa + "e" + e3;
        }
        if (e3 > 18) {
            mantissa = mantissa.multiply(BigInteger.TEN.pow(e3 - 18));
            e3 = 18;
        }
        String suffix = switch (e3) {
            case -9 -> "n";
            case -6 -> "u";
            case -3 -> "m";
            case 0 -> "";
            case 3 -> "k";
            case 6 -> "M";
            case 9 -> "G";
            case 12 -> "T";
            case 15 -> "P";
            case 18 -> "E";
            default -> throw new IllegalStateException("exponent " + e3 + " out of range");
        };
        return mantissa + suffix;
    }

    @Override
    public int compareTo(Quantity o) {
        return value.compareTo(o.value);
    }

    /** Equal when the amounts are equal, whatever the notation ({@code 1Gi} equals {@code 1073741824}). */
    @Override
    public boolean equals(Object o) {
        return o instanceof Quantity q && value.compareTo(q.value) == 0;
    }

    @Override
    public int hashCode() {
        return value.stripTrailingZeros().hashCode();
    }
}
