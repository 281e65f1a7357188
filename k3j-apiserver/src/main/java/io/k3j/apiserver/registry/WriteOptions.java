package io.k3j.apiserver.registry;

import io.k3j.apiserver.auth.UserInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Options of a create, update or patch.
 *
 * @param fieldManager the manager recorded in managedFields (query param, or derived from the User-Agent)
 * @param apply        true for server-side apply, which records managedFields itself
 * @param warnings     where the write leaves warnings for the client (sent as {@code Warning: 299 - "..."} headers);
 *                     shared by copies made with {@link #forApply()}
 */
public record WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user, boolean apply,
                           List<String> warnings) {
    public enum FieldValidation { IGNORE, WARN, STRICT }

    public WriteOptions {
        Objects.requireNonNull(warnings, "warnings");
    }

    public WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user, boolean apply) {
        this(dryRun, fieldManager, fieldValidation, user, apply, new ArrayList<>());
    }

    public WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user) {
        this(dryRun, fieldManager, fieldValidation, user, false);
    }

    public static WriteOptions system(String manager) {
        return new WriteOptions(false, manager, FieldValidation.IGNORE, null, false);
    }

    public WriteOptions forApply() {
        return new WriteOptions(dryRun, fieldManager, fieldValidation, user, true, warnings);
    }

    /** Records a warning for the client, once. */
    public void warn(String warning) {
        synchronized (warnings) {
            if (!warnings.contains(warning)) warnings.add(warning);
        }
    }
}
