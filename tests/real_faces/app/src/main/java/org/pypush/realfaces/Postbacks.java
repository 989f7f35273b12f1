package org.pypush.realfaces;

import jakarta.faces.view.ViewScoped;
import jakarta.inject.Named;
import java.io.Serializable;

/**
 * The postback page's state: a socket that the page renders only after a postback, as the
 * Faces TCK's test of a socket after a postback does.
 */
@Named
@ViewScoped
public class Postbacks implements Serializable {

    private static final long serialVersionUID = 1L;

    private boolean socketShown;

    public void showSocket() {
        socketShown = true;
    }

    public boolean isSocketShown() {
        return socketShown;
    }
}
