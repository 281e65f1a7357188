package io.k3j.apiserver.registry;

import io.k3j.apiserver.auth.UserInfo;

/**
 * Options of a create, update or patch.
 *
 * @param fieldManager the manager recorded in managedFields (query param, or derived from the User-Agent)
 * @param apply        true for server-side apply, which records managedFields itself
 */
public record WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user, boolean apply) {
    public enum FieldValidation { IGNORE, WARN, STRICT }

    public WriteOptions(boolean dryRun, String fieldManager, FieldValidation fieldValidation, UserInfo user) {
        this(dryRun, fieldManager, fieldValidation, user, false);
    }

    public static WriteOptions system(String manager) {
        return new WriteOptions(false, manager, FieldValidation.IGNORE, null, false);
    }

    public WriteOptions forApply() {
        return new WriteOptions(dryRun, fieldManager, fieldValidation, user, true);
    }
}
