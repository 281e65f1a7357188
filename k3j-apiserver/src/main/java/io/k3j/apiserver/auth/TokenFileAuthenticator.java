package io.k3j.apiserver.auth;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * kube-apiserver's {@code --token-auth-file}: a CSV (Go's encoding/csv rules: quoted fields may hold commas and
 * {@code ""}, blank lines are skipped) of {@code token,user,uid[,groups]} where groups is one comma-separated
 * field. Records with an empty token are skipped; a later duplicate wins. Authenticated users also get
 * {@code system:authenticated}.
 */
final class TokenFileAuthenticator implements Authenticator {

    private static final Logger LOG = Logger.getLogger(TokenFileAuthenticator.class.getName());

    private final Map<String, UserInfo> tokens;

    TokenFileAuthenticator(Map<String, UserInfo> tokens) {
        Map<String, UserInfo> copy = new HashMap<>();
        requireNonNull(tokens, "tokens").forEach((t, u) -> copy.put(requireNonNull(t), u.authenticated()));
        this.tokens = Map.copyOf(copy);
    }

    static TokenFileAuthenticator read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Map<String, UserInfo> tokens = new HashMap<>();
        int recordNum = 0;
        for (List<String> record : parseCsv(text, file)) {
            if (record.size() < 3) {
                throw new IllegalArgumentException("token file '" + file + "' must have at least 3 columns "
                        + "(token, user name, user uid), found " + record.size());
            }
            recordNum++;
            if (record.get(0).isEmpty()) {
                LOG.warning("empty token has been found in token file '" + file + "', record number '" + recordNum + "'");
                continue;
            }
            if (tokens.containsKey(record.get(0))) {
                LOG.warning("duplicate token has been found in token file '" + file + "', record number '"
                        + recordNum + "'");
            }
            // Go's strings.Split: an empty groups column is one empty group, kept for fidelity.
            List<String> groups = record.size() >= 4 ? Arrays.asList(record.get(3).split(",", -1)) : List.of();
            tokens.put(record.get(0), new UserInfo(record.get(1), record.get(2), groups));
        }
        return new TokenFileAuthenticator(tokens);
    }

    @Override
    public Optional<UserInfo> authenticate(Credentials credentials) {
        String token = credentials.bearerToken();
        return token == null ? Optional.empty() : Optional.ofNullable(tokens.get(token));
    }

    /** RFC 4180 as Go's csv.Reader reads it with FieldsPerRecord = -1 and no lazy quotes. */
    static List<List<String>> parseCsv(String text, Path file) {
        List<List<String>> records = new ArrayList<>();
        int i = 0;
        int line = 1;
        int n = text.length();
        while (i < n) {
            // Blank lines are not records.
            if (text.charAt(i) == '\n') {
                i++;
                line++;
                continue;
            }
            if (text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n') {
                i += 2;
                line++;
                continue;
            }
            List<String> record = new ArrayList<>();
            int recordLine = line;
            while (true) {
                StringBuilder field = new StringBuilder();
                if (i < n && text.charAt(i) == '"') {
                    int col = i;
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw csvError(file, recordLine, col, "extraneous or missing \" in quoted-field");
                        }
                        char c = text.charAt(i);
                        if (c == '"') {
                            if (i + 1 < n && text.charAt(i + 1) == '"') {
                                field.append('"');
                                i += 2;
                                continue;
                            }
                            i++;
                            break;
                        }
                        if (c == '\n') {
                            line++;
                        }
                        if (!(c == '\r' && i + 1 < n && text.charAt(i + 1) == '\n')) {
                            field.append(c);
                        }
                        i++;
                    }
                    if (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n'
                            && !(text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n')) {
                        throw csvError(file, line, i, "extraneous or missing \" in quoted-field");
                    }
                } else {
                    while (i < n && text.charAt(i) != ',' && text.charAt(i) != '\n'
                            && !(text.charAt(i) == '\r' && i + 1 < n && text.charAt(i + 1) == '\n')) {
                        if (text.charAt(i) == '"') {
                            throw csvError(file, line, i, "bare \" in non-quoted-field");
                        }
                        field.append(text.charAt(i));
                        i++;
                    }
                }
                record.add(field.toString());
                if (i < n && text.charAt(i) == ',') {
                    i++;
                    continue;
                }
                if (i < n && text.charAt(i) == '\r') {
                    i++;
                }
                if (i < n && text.charAt(i) == '\n') {
                    i++;
                    line++;
                }
                break;
            }
            records.add(record);
        }
        return records;
    }

    private static IllegalArgumentException csvError(Path file, int line, int offset, String what) {
        return new IllegalArgumentException("token file '" + file + "': parse error on line " + line + ": " + what
                + " (at character " + offset + ")");
    }
}
