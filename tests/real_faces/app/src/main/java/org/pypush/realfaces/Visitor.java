package org.pypush.realfaces;

import jakarta.enterprise.context.SessionScoped;
import jakarta.faces.context.FacesContext;
import jakarta.inject.Named;
import java.io.Serializable;

/** The session's user, named by the page's {@code ?user=} view parameter. */
@Named
@SessionScoped
public class Visitor implements Serializable {

    private static final long serialVersionUID = 1L;

    private String name = "anonymous";

    public String getName() {
        return name;
    }

    public void setName(String name) {
        if (name != null && !name.isBlank()) {
            this.name = name;
        }
    }

    /** Ends the session, as its expiry does: Faces closes its session-scoped sockets. */
    public void endSession() {
        FacesContext.getCurrentInstance().getExternalContext().invalidateSession();
    }
}
